namespace Engine.Grains.Margin;

/// <summary>
/// A one-way net position in one bucket. <see cref="Quantity"/> is signed (+ long, - short) in base
/// units; <see cref="Margin"/> is the isolated margin in USDT set aside from the bucket's balance.
/// </summary>
public sealed class Position
{
    public Position(long key, BucketId bucket, string symbol)
    {
        Key = key;
        Bucket = bucket;
        Symbol = symbol;
    }

    /// <summary>Shard-unique key of this position's liquidation entry in the mark book.</summary>
    public long Key { get; }
    public BucketId Bucket { get; }
    public string Symbol { get; }
    public decimal Quantity { get; internal set; }
    public decimal EntryPrice { get; internal set; }
    public int Leverage { get; internal set; }
    public decimal Margin { get; internal set; }
    /// <summary>The mark price at which this position is liquidated; null when flat.</summary>
    public decimal? LiquidationPrice { get; internal set; }

    public bool IsFlat => Quantity == 0m;

    public decimal UnrealizedPnl(decimal markPrice) => Quantity * (markPrice - EntryPrice);
}
