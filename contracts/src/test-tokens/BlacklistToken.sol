// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title BlacklistToken
/// @notice A devnet stand-in for a regulated stablecoin (like the issuer contracts of USDC):
/// its issuer blacklists addresses, which then can neither send nor receive it, and anyone
/// can ask `isBlacklisted`. Anyone can mint (test token). NOT for production.
contract BlacklistToken is ERC20 {
    /// @notice The issuer: the only account that blacklists and un-blacklists.
    address public immutable issuer;
    uint8 private immutable _decimals;
    mapping(address account => bool) private _blacklisted;

    /// @notice `account` was blacklisted by the issuer.
    event Blacklisted(address indexed account);
    /// @notice `account` was taken off the blacklist by the issuer.
    event UnBlacklisted(address indexed account);

    /// @notice The caller is not the issuer.
    error OnlyIssuer(address caller);
    /// @notice `account` is blacklisted: it can neither send nor receive the token.
    error AccountBlacklisted(address account);

    constructor(string memory name_, string memory symbol_, uint8 decimals_, address issuer_)
        ERC20(name_, symbol_)
    {
        issuer = issuer_;
        _decimals = decimals_;
    }

    /// @notice Mints `amount` to `to` (unrestricted: test token; a blacklisted `to` reverts).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Blacklists `account`; issuer only.
    function blacklist(address account) external {
        if (msg.sender != issuer) revert OnlyIssuer(msg.sender);
        _blacklisted[account] = true;
        emit Blacklisted(account);
    }

    /// @notice Takes `account` off the blacklist; issuer only.
    function unBlacklist(address account) external {
        if (msg.sender != issuer) revert OnlyIssuer(msg.sender);
        _blacklisted[account] = false;
        emit UnBlacklisted(account);
    }

    /// @notice Whether `account` is blacklisted (the view validators call before signing).
    function isBlacklisted(address account) external view returns (bool) {
        return _blacklisted[account];
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @dev Every transfer, mint and burn: neither side may be blacklisted.
    function _update(address from, address to, uint256 value) internal override {
        if (_blacklisted[from]) revert AccountBlacklisted(from);
        if (_blacklisted[to]) revert AccountBlacklisted(to);
        super._update(from, to, value);
    }
}
