using Engine.Grains;

namespace Engine.Silo.Runtime;

/// <summary>Maps an account (and everything it owns) to its shard by a stable hash of the account id.</summary>
public static class ShardRouter
{
    /// <summary>FNV-1a over the id's UTF-16 code units: stable across processes and versions.</summary>
    public static int ShardOf(AccountId account, int shards)
    {
        var hash = 2166136261u;
        foreach (var ch in account.Value)
        {
            hash ^= ch;
            hash *= 16777619u;
        }

        return (int)(hash % (uint)shards);
    }
}
