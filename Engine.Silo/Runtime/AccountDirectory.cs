using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Engine.Grains;

namespace Engine.Silo.Runtime;

/// <summary>
/// Which API key belongs to which account, for authentication before a request reaches a shard.
/// Keys are stored as SHA-256 hashes; the shards feed this from committed AccountOpened events.
/// An account's key is derived from the data folder's secret and the account id, so that a repeated
/// (idempotent) account creation can answer the same key without the key ever being written down.
/// </summary>
public sealed class AccountDirectory(byte[] secret)
{
    private readonly ConcurrentDictionary<string, AccountId> _byKeyHash = new(StringComparer.Ordinal);

    /// <summary>The API key of <paramref name="account"/>: HMAC-SHA256 of its id under the folder's secret.</summary>
    public string KeyFor(AccountId account) =>
        "ak_" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(account.Value)))[..48];

    public static string Hash(string apiKey) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));

    public AccountId? Find(string apiKey) => _byKeyHash.TryGetValue(Hash(apiKey), out var id) ? id : null;

    internal void Add(string keyHash, AccountId account) => _byKeyHash[keyHash] = account;

    public int Count => _byKeyHash.Count;
}
