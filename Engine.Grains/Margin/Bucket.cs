namespace Engine.Grains.Margin;

public enum BucketKind
{
    Manual = 0,
    Copy = 1,
    Plan = 2,
}

/// <summary>
/// An isolated margin bucket. <see cref="Balance"/> is the bucket's cash in USDT, including the
/// margin set aside for its positions; realized PnL and fees land in it. Nothing outside the bucket
/// can be taken by its positions.
/// </summary>
public sealed class Bucket
{
    public Bucket(BucketId id, string name, BucketKind kind)
    {
        Id = id;
        Name = name;
        Kind = kind;
    }

    public BucketId Id { get; }
    public string Name { get; }
    /// <summary>Settable: a copy bucket kept after its subscription ended becomes a manual bucket.</summary>
    public BucketKind Kind { get; internal set; }
    public decimal Balance { get; internal set; }
    public decimal RealizedPnl { get; internal set; }
    /// <summary>No new orders: the bucket's kill switch is on or its daily loss limit was reached (the account's kill switch is on the account).</summary>
    public bool Locked => KillSwitch || LossLocked;

    /// <summary>This bucket's kill switch.</summary>
    public bool KillSwitch { get; internal set; }

    /// <summary>The most the bucket may lose in a UTC day (USDT), or null.</summary>
    public decimal? DailyLossLimit { get; internal set; }

    /// <summary>The equity the day's loss is measured from, moved by transfers in and out.</summary>
    public decimal LossBaseline { get; internal set; }

    /// <summary>The UTC day (00:00) the baseline belongs to.</summary>
    public DateTimeOffset LossDay { get; internal set; }

    /// <summary>The daily loss limit was reached: locked until the next UTC day or a release.</summary>
    public bool LossLocked { get; internal set; }
    public Dictionary<string, Position> Positions { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, int> Leverage { get; } = new(StringComparer.Ordinal);

    public decimal UsedMargin
    {
        get
        {
            var used = 0m;
            foreach (var p in Positions.Values) used += p.Margin;
            return used;
        }
    }

    /// <summary>What can fund new margin or leave the bucket.</summary>
    public decimal Available => Balance - UsedMargin;
}
