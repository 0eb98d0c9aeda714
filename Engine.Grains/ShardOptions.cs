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
}
