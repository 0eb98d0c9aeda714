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
}
