"""The OpenAPI 3.1 document of the portal's public API, served at ``/v1/openapi.json``.

Written by hand next to the routes it describes; tests/unit/portal/test_openapi.py keeps
the two in step (every route documented, every documented path routed).
"""

from __future__ import annotations

from typing import Any

from relayer import __version__
from relayer.portal.rpc_relay import READ_METHODS

_ERROR = {"$ref": "#/components/responses/Error"}
_LIMITED = {"$ref": "#/components/responses/RateLimited"}
_HEX = "^0x[0-9a-fA-F]{64}$"
_ADDRESS = "^0x[0-9a-fA-F]{40}$"

_STATES = [
    "observed",
    "confirmed",
    "attested",
    "quorum",
    "submitted",
    "delayed",
    "released",
    "review",
    "refused",
    "vetoed",
    "cancelled",
    "refunded",
    "orphaned",
    "conflicting",
]


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


def _ok(schema_ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "description": "What was wrong."}},
    },
    "Config": {
        "type": "object",
        "required": ["chains", "tokens", "validators", "version"],
        "properties": {
            "version": {"type": "string"},
            "chains": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["chain_id", "name", "kind", "rpc_url", "bridge"],
                    "properties": {
                        "chain_id": {"type": "integer"},
                        "chain_id_hex": {"type": "string"},
                        "name": {"type": "string"},
                        "kind": {"enum": ["conflux-espace", "ethereum"]},
                        "rpc_url": {"type": "string"},
                        "explorer_tx_url": _nullable("string", description="{hash} placeholder"),
                        "bridge": {"type": "string", "pattern": _ADDRESS},
                        "native_currency": {"type": "object"},
                        "confirmation": {
                            "type": "object",
                            "properties": {
                                "rule": {"type": "string"},
                                "blocks": _nullable("integer"),
                                "typical_s": {"type": "number"},
                            },
                        },
                    },
                },
            },
            "tokens": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["symbol", "decimals", "addresses"],
                    "properties": {
                        "symbol": {"type": "string"},
                        "decimals": {"type": "integer"},
                        "addresses": {
                            "type": "object",
                            "description": "chain id (decimal string) -> address",
                            "additionalProperties": {"type": "string", "pattern": _ADDRESS},
                        },
                    },
                },
            },
            "validators": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Validator"},
            },
            "jurisdictions": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Validator": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "jurisdiction": {"type": "string"},
            "address": _nullable("string"),
            "answer": {"enum": ["found", "not_found", "unreachable", "listed"]},
            "status": _nullable("string"),
            "error": _nullable("string"),
        },
    },
    "Transfer": {
        "type": "object",
        "required": ["transfer_id", "state", "attestations", "quorum", "validators", "eta"],
        "properties": {
            "transfer_id": {"type": "string", "pattern": _HEX},
            "direction": {"enum": ["to_ethereum", "to_conflux"]},
            "state": {"enum": _STATES, "description": "The set's state (the aggregation rule)."},
            "src_chain_id": {"type": "integer"},
            "dst_chain_id": {"type": "integer"},
            "nonce": {"type": "integer", "description": "The source contract's nonce."},
            "src_token": {"type": "string"},
            "dst_token": _nullable("string"),
            "sender": {"type": "string"},
            "recipient": {"type": "string"},
            "amount": {"type": "string", "description": "Smallest units, decimal."},
            "source_tx": {"type": "string", "pattern": _HEX},
            "source_block": {"type": "integer"},
            "observed_at": _nullable("string", format="date-time"),
            "confirmed_at": _nullable("string", format="date-time"),
            "attestations": {
                "type": "object",
                "properties": {
                    "count": {"type": "integer"},
                    "by_jurisdiction": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "validator": {"type": "string"},
                                    "name": _nullable("string"),
                                    "at": _nullable("string", format="date-time"),
                                },
                            },
                        },
                    },
                },
            },
            "quorum": {
                "type": "object",
                "properties": {
                    "threshold": _nullable("integer"),
                    "min_jurisdictions": _nullable("integer"),
                    "reached": {"type": "boolean"},
                },
            },
            "refusals": {"type": "array", "items": {"type": "object"}},
            "delayed": {"type": "boolean"},
            "executable_at": _nullable("integer", description="Unix seconds."),
            "release": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "properties": {
                            "tx": {"type": "string"},
                            "chain_id": {"type": "integer"},
                            "explorer_url": _nullable("string"),
                            "at": _nullable("string", format="date-time"),
                        },
                    },
                ]
            },
            "eta": {
                "type": "object",
                "properties": {
                    "at": _nullable("integer", description="Unix seconds."),
                    "in_s": _nullable("integer"),
                    "overdue": {"type": "boolean"},
                    "basis": {"type": "string"},
                },
            },
            "conflicts": {"type": "array", "items": {"type": "string"}},
            "validators": {"type": "array", "items": {"$ref": "#/components/schemas/Validator"}},
        },
    },
    "RpcRequest": {
        "type": "object",
        "description": "One JSON-RPC 2.0 request object (no batches, no notifications).",
        "required": ["jsonrpc", "id", "method"],
        "properties": {
            "jsonrpc": {"const": "2.0"},
            "id": {"type": ["integer", "string"]},
            "method": {"enum": sorted(READ_METHODS)},
            "params": {"type": "array", "default": []},
        },
    },
    "RpcResponse": {
        "type": "object",
        "description": "The node's JSON-RPC answer as it came (a JSON-RPC error such as an "
        "eth_call revert with its data included), with the request's id.",
        "required": ["jsonrpc", "id"],
        "properties": {
            "jsonrpc": {"const": "2.0"},
            "id": {"type": ["integer", "string"]},
            "result": {},
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                    "data": {},
                },
            },
        },
    },
    "TransferList": {
        "type": "object",
        "required": ["address", "limit", "transfers", "validators"],
        "properties": {
            "address": {"type": "string"},
            "limit": {"type": "integer"},
            "transfers": {"type": "array", "items": {"$ref": "#/components/schemas/Transfer"}},
            "validators": {"type": "array", "items": {"$ref": "#/components/schemas/Validator"}},
        },
    },
}


def openapi_document(list_limit_max: int, max_body_bytes: int = 16384) -> dict[str, Any]:
    """The document; ``list_limit_max`` is the portal's ``upstream.list_limit_max``,
    ``max_body_bytes`` its ``rpc_relay.max_body_bytes``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Conflux bridge portal API",
            "version": __version__,
            "description": "The validator set's view of bridge transfers (docs/portal.md). "
            "Every /v1 answer is rate-limited per client (429 with Retry-After).",
        },
        "paths": {
            "/v1/config": {
                "get": {
                    "operationId": "getConfig",
                    "summary": "Chains, tokens, confirmations and validators a page needs.",
                    "responses": {"200": _ok("Config", "The portal's settings."), "429": _LIMITED},
                }
            },
            "/v1/transfers/{key}": {
                "get": {
                    "operationId": "getTransfer",
                    "summary": "One transfer as the whole validator set sees it.",
                    "parameters": [
                        {
                            "name": "key",
                            "in": "path",
                            "required": True,
                            "description": "Transfer id or source transaction hash.",
                            "schema": {"type": "string", "pattern": _HEX},
                        }
                    ],
                    "responses": {
                        "200": _ok("Transfer", "Known to at least one validator."),
                        "400": _ERROR,
                        "404": {
                            "description": "No validator that answered knows it "
                            "(the validators' answers are in `validators`).",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "429": _LIMITED,
                        "503": {
                            "description": "No validator answered.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                    },
                }
            },
            "/v1/transfers": {
                "get": {
                    "operationId": "listTransfers",
                    "summary": "Transfers an address sent or receives, newest first.",
                    "parameters": [
                        {
                            "name": "address",
                            "in": "query",
                            "required": True,
                            "description": "0x address; mixed case must be EIP-55 checksummed.",
                            "schema": {"type": "string", "pattern": _ADDRESS},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": list_limit_max,
                                "default": min(20, list_limit_max),
                            },
                        },
                    ],
                    "responses": {
                        "200": _ok("TransferList", "Merged across validators."),
                        "400": _ERROR,
                        "429": _LIMITED,
                    },
                }
            },
            "/v1/rpc/{chain_id}": {
                "post": {
                    "operationId": "relayRpc",
                    "summary": "Relay one read-only JSON-RPC request to a chain's node.",
                    "description": "Only the read methods in RpcRequest.method; never "
                    "eth_sendRawTransaction, eth_getLogs, eth_feeHistory or "
                    "eth_maxPriorityFeePerGas. Each request spends one token of the "
                    "client's rate limit.",
                    "parameters": [
                        {
                            "name": "chain_id",
                            "in": "path",
                            "required": True,
                            "description": "One of the chains in /v1/config.",
                            "schema": {"type": "integer"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "description": f"At most {max_body_bytes} bytes.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/RpcRequest"}
                            }
                        },
                    },
                    "responses": {
                        "200": _ok("RpcResponse", "The node's answer."),
                        "400": _ERROR,
                        "404": {
                            "description": "No such chain.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
                        },
                        "429": _LIMITED,
                        "502": {
                            "description": "The node did not answer within the timeout, "
                            "could not be reached, or answered something not JSON-RPC.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
                        },
                    },
                }
            },
            "/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document.",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": _SCHEMAS,
            "responses": {
                "Error": {
                    "description": "Bad input: the message says what was wrong.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
                "RateLimited": {
                    "description": "Too many requests from this client.",
                    "headers": {
                        "Retry-After": {
                            "description": "Seconds to wait.",
                            "schema": {"type": "integer"},
                        }
                    },
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        },
    }
