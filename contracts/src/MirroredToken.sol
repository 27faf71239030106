// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title MirroredToken
/// @notice The Ethereum representation of a token locked in the Conflux eSpace vault. Only the
/// gateway named at deployment can mint and burn; it has the source token's decimals.
/// A mirror may have an issuer (fixed at deployment) who freezes and unfreezes accounts: a frozen
/// account can neither send nor receive the mirror (transfers, mints to it and the gateway's
/// burns from it revert with `AccountFrozen`), nor move another holder's mirror with an
/// allowance. Approvals and permits of a frozen owner are still recorded (they cannot be used
/// while the owner is frozen). Without an issuer (address(0)) nobody can freeze, and no transfer,
/// mint or burn reads more storage than a plain ERC-20 does.
contract MirroredToken is ERC20, ERC20Permit {
    /// @notice The gateway that mints and burns this token (immutable: checking it reads no storage).
    address public immutable gateway;
    /// @notice The account that freezes and unfreezes holders; address(0) = none (nobody can).
    /// @dev Immutable: a mirror without issuer tells so without reading storage.
    address public immutable issuer;
    /// @dev issuer != address(0), as one immutable flag: the cheapest test the transfer path can make.
    bool private immutable _freezable;
    uint8 private immutable _decimals;
    mapping(address account => bool) private _frozen;

    /// @notice The issuer froze `account`: it can no longer send or receive this token.
    event Frozen(address indexed account);
    /// @notice The issuer unfroze `account`.
    event Unfrozen(address indexed account);

    /// @notice The caller is not the gateway.
    error OnlyGateway(address caller);
    /// @notice The caller is not the issuer (always so for a mirror without issuer).
    error OnlyIssuer(address caller);
    /// @notice `account` is frozen: it can neither send nor receive this token.
    error AccountFrozen(address account);

    /// @param issuer_ The issuer, or address(0) for a mirror nobody can freeze.
    constructor(string memory name_, string memory symbol_, uint8 decimals_, address gateway_, address issuer_)
        ERC20(name_, symbol_)
        ERC20Permit(name_)
    {
        gateway = gateway_;
        issuer = issuer_;
        _freezable = issuer_ != address(0);
        _decimals = decimals_;
    }

    modifier onlyGateway() {
        if (msg.sender != gateway) revert OnlyGateway(msg.sender);
        _;
    }

    modifier onlyIssuer() {
        // without issuer nobody passes (not even a call simulated from address(0))
        if (!_freezable || msg.sender != issuer) revert OnlyIssuer(msg.sender);
        _;
    }

    /// @notice Mints `amount` to `to`; gateway only. Reverts with AccountFrozen when `to` is frozen.
    /// @return Always true (a call that expects return data skips the caller's EXTCODESIZE check).
    function mint(address to, uint256 amount) external onlyGateway returns (bool) {
        _mint(to, amount);
        return true;
    }

    /// @notice Burns `amount` from `from` without allowance; gateway only (the gateway burns only
    /// from its own caller). Reverts with AccountFrozen when `from` is frozen.
    function burn(address from, uint256 amount) external onlyGateway {
        _burn(from, amount);
    }

    /// @notice Freezes `account`: it can no longer send or receive this token; issuer only.
    /// Freezing a frozen account emits `Frozen` again. address(0) is never checked (mints and
    /// burns are not blocked by freezing it).
    function freeze(address account) external onlyIssuer {
        _frozen[account] = true;
        emit Frozen(account);
    }

    /// @notice Unfreezes `account`; issuer only. Unfreezing a clear account emits `Unfrozen` again.
    function unfreeze(address account) external onlyIssuer {
        _frozen[account] = false;
        emit Unfrozen(account);
    }

    /// @notice Whether `account` is frozen (always false for a mirror without issuer). The view a
    /// validator's issuer check can ask (`isFrozen(address)`, blocked when true).
    function isFrozen(address account) external view returns (bool) {
        return _freezable && _frozen[account];
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @dev Every transfer, mint and burn: with an issuer, neither side may be frozen (address(0),
    /// the far side of a mint or burn, is not looked up), nor the spender of a transferFrom (the
    /// caller when it is neither `from` nor the gateway). Without one, no storage is read here.
    function _update(address from, address to, uint256 value) internal override {
        if (_freezable) {
            if (from != address(0) && _frozen[from]) revert AccountFrozen(from);
            if (to != address(0) && _frozen[to]) revert AccountFrozen(to);
            address spender = msg.sender;
            if (spender != from && spender != gateway && _frozen[spender]) revert AccountFrozen(spender);
        }
        super._update(from, to, value);
    }
}
