using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Engine.Grains;

namespace Engine.Silo.Runtime;

/// <summary>
/// Which API key belongs to which account, for authentication before a request reaches a shard.
/// Keys are stored as SHA-256 hashes; the shards feed this from committed AccountOpened events.
/// </summary>
public sealed class AccountDirectory
{
    private readonly ConcurrentDictionary<string, AccountId> _byKeyHash = new(StringComparer.Ordinal);

    public static string Hash(string apiKey) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));

    public AccountId? Find(string apiKey) => _byKeyHash.TryGetValue(Hash(apiKey), out var id) ? id : null;

    internal void Add(string keyHash, AccountId account) => _byKeyHash[keyHash] = account;

    public int Count => _byKeyHash.Count;
}
