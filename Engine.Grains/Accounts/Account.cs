using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Margin;
using Engine.Grains.Orders;

namespace Engine.Grains.Accounts;

/// <summary>A fill as the account's history shows it. Money in USDT; fee is a positive cost.</summary>
public sealed record Fill(
    long Number,
    long? Order,
    BucketId Bucket,
    string Symbol,
    OrderSide Side,
    decimal Quantity,
    decimal Price,
    decimal Fee,
    decimal RealizedPnl,
    Liquidity Liquidity,
    DateTimeOffset At);

/// <summary>An account event with its per-account sequence number (1, 2, ...).</summary>
public readonly record struct SequencedEvent(long Sequence, AccountEvent Event);

public sealed record OrderList(ListId Id, OrderListType Type, long[] Orders, string? ClientOrderId, string? BodyHash);

public sealed record IdempotentResponse(string BodyHash, int Status, string Body);

/// <summary>
/// An account grain's state: the wallet (unallocated USDT), its isolated buckets and the indexes of
/// its orders. Recent history (terminal orders, fills, events) is kept up to fixed bounds.
/// </summary>
public sealed class Account
{
    public Account(AccountId id, string name, string apiKeyHash)
    {
        Id = id;
        Name = name;
        ApiKeyHash = apiKeyHash;
    }

    public AccountId Id { get; }
    public string Name { get; }
    public string ApiKeyHash { get; }
    public decimal WalletBalance { get; internal set; }
    public BucketId ManualBucket { get; internal set; }
    public long BucketCount { get; internal set; }
    public long ListCount { get; internal set; }
    public long EventSequence { get; internal set; }

    /// <summary>The account-wide kill switch: no new orders in any of its buckets.</summary>
    public bool KillSwitch { get; internal set; }

    /// <summary>The dead man's switch's deadline (UTC), when armed.</summary>
    public DateTimeOffset? CancelAllAfter { get; internal set; }

    /// <summary>Buckets in creation order.</summary>
    public List<Bucket> Buckets { get; } = [];
    public LiveOrderList LiveOrders { get; } = new();
    public Queue<long> RecentDoneOrders { get; } = new();
    public Dictionary<string, (long Order, string? BodyHash)> ClientOrderIds { get; } = new(StringComparer.Ordinal);
    public Queue<string> ClientOrderIdOrder { get; } = new();
    public Dictionary<string, OrderList> Lists { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, IdempotentResponse> Idempotency { get; } = new(StringComparer.Ordinal);
    public Queue<string> IdempotencyOrder { get; } = new();
    public FillLog Fills { get; } = new();
    public AccountEventLog Events { get; } = new();

    public Bucket? FindBucket(BucketId id)
    {
        // The engine's own ids are the bucket's own string: found without reading the other buckets' ids.
        foreach (var b in Buckets)
            if (ReferenceEquals(b.Id.Value, id.Value)) return b;
        foreach (var b in Buckets)
            if (b.Id == id) return b;
        return null;
    }
}
