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
    public BucketKind Kind { get; }
    public decimal Balance { get; internal set; }
    public decimal RealizedPnl { get; internal set; }
    public bool Locked { get; internal set; }
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
