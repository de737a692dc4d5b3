// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

interface IERC721Receiver {
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data)
        external
        returns (bytes4);
}

/// @title IdentityRegistrySol
/// @notice The ERC-8004 IdentityRegistry functions the benchmarks compare, written in Solidity
///         the way the reference contract does them (ERC-721 ownership and balances, URI
///         storage, `_lastId++`, the agentWallet metadata entry set to the owner at
///         registration, the same events), without the reference's UUPS proxy — so the
///         comparison with the native precompile favours this side slightly.
contract IdentityRegistrySol {
    struct MetadataEntry {
        string metadataKey;
        bytes metadataValue;
    }

    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event Registered(uint256 indexed agentId, string agentURI, address indexed owner);
    event URIUpdated(uint256 indexed agentId, string newURI, address indexed updatedBy);
    event MetadataSet(
        uint256 indexed agentId, string indexed indexedMetadataKey, string metadataKey, bytes metadataValue
    );

    uint256 private _lastId;
    mapping(uint256 => address) private _owners;
    mapping(address => uint256) private _balances;
    mapping(uint256 => string) private _tokenURIs;
    mapping(uint256 => mapping(string => bytes)) private _metadata;

    function register(string calldata agentURI) external returns (uint256 agentId) {
        agentId = _lastId++;
        _mint(msg.sender, agentId);
        _tokenURIs[agentId] = agentURI;
        _metadata[agentId]["agentWallet"] = abi.encodePacked(msg.sender);
        emit Registered(agentId, agentURI, msg.sender);
        emit MetadataSet(agentId, "agentWallet", "agentWallet", abi.encodePacked(msg.sender));
    }

    function setAgentURI(uint256 agentId, string calldata newURI) external {
        require(_owners[agentId] == msg.sender, "caller is not the owner");
        _tokenURIs[agentId] = newURI;
        emit URIUpdated(agentId, newURI, msg.sender);
    }

    function ownerOf(uint256 tokenId) public view returns (address owner) {
        owner = _owners[tokenId];
        require(owner != address(0), "unknown agent");
    }

    function balanceOf(address owner) external view returns (uint256) {
        require(owner != address(0), "zero address is not an owner");
        return _balances[owner];
    }

    function tokenURI(uint256 tokenId) external view returns (string memory) {
        ownerOf(tokenId);
        return _tokenURIs[tokenId];
    }

    function getAgentWallet(uint256 agentId) external view returns (address) {
        return address(bytes20(_metadata[agentId]["agentWallet"]));
    }

    function isAuthorizedOrOwner(address spender, uint256 agentId) external view returns (bool) {
        return ownerOf(agentId) == spender;
    }

    function _mint(address to, uint256 tokenId) private {
        require(to != address(0), "mint to the zero address");
        _balances[to] += 1;
        _owners[tokenId] = to;
        emit Transfer(address(0), to, tokenId);
        // _safeMint: a contract receiver must accept the token.
        if (to.code.length > 0) {
            require(
                IERC721Receiver(to).onERC721Received(msg.sender, address(0), tokenId, "")
                    == IERC721Receiver.onERC721Received.selector,
                "receiver refused the agent"
            );
        }
    }
}
