using System.Runtime.CompilerServices;
using Engine.Grains;
using Engine.Grains.Events;

namespace Engine.Bench;

/// <summary>
/// Whether a shard's orders share what they can share: symbol, account-id and bucket-id strings, and
/// the OrderSpec between an order and the OrderAccepted event its account's history keeps. Unshared
/// copies are per-order bytes (a recovered shard should look like the one that was live).
/// </summary>
internal static class SharingReport
{
    public static string Analyze(ShardGrains shard)
    {
        var symbols = new HashSet<string>(ReferenceEqualityComparer.Instance);
        var accountIds = new HashSet<string>(ReferenceEqualityComparer.Instance);
        var buckets = new HashSet<string>(ReferenceEqualityComparer.Instance);
        var specs = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var o in shard.Orders.Values)
        {
            symbols.Add(o.Symbol);
            accountIds.Add(o.Account.Value);
            buckets.Add(o.Bucket.Value);
            specs.Add(o.Spec);
        }

        int inHistory = 0, sharedSpec = 0;
        foreach (var account in shard.Accounts.Values)
        {
            foreach (var e in account.Events)
            {
                if (e.Event is not OrderAccepted accepted) continue;
                inHistory++;
                if (specs.Contains(accepted.Order)) sharedSpec++;
            }
        }

        return $"{shard.Orders.Count:N0} orders use {symbols.Count:N0} symbol strings, {accountIds.Count:N0} account-id strings "
            + $"({shard.Accounts.Count:N0} accounts), {buckets.Count:N0} bucket-id strings; of {inHistory:N0} OrderAccepted events kept in account histories "
            + $"{sharedSpec:N0} share the order's OrderSpec instance";
    }
}
