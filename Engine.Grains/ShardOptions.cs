namespace Engine.Grains;

/// <summary>Bounds on the recent history each account keeps in memory.</summary>
public sealed record ShardOptions
{
    public int EventHistory { get; init; } = 1_000;
    public int FillHistory { get; init; } = 1_000;
    public int DoneOrderHistory { get; init; } = 1_000;
    public int ClientIdHistory { get; init; } = 100_000;
    /// <summary>Leverage of a symbol in a bucket that never set one (capped by the instrument's maximum).</summary>
    public int DefaultLeverage { get; init; } = 10;
    /// <summary>An arm step later than its moment by more than this has misfired (see <see cref="Plans.PlanMisfire"/>).</summary>
    public TimeSpan PlanMisfireGrace { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>History lines each plan keeps (the newest).</summary>
    public int PlanHistory { get; init; } = 500;
    /// <summary>Copy outcomes each subscription keeps (the newest).</summary>
    public int CopyOutcomeHistory { get; init; } = 1_000;

    /// <summary>
    /// The price band, a fraction (0 turns it off): a buy limit may be at most this far above its
    /// reference and a sell limit at most this far below it. The reference is the index for a limit
    /// order and the trigger price for a stop-limit or take-profit-limit (the index it will meet).
    /// </summary>
    public decimal PriceBand { get; init; }

    /// <summary>What happens to a limit price outside the band.</summary>
    public Risk.PriceBandPolicy PriceBandPolicy { get; init; }
}
