namespace Engine.Grains.Risk;

/// <summary>What a stop-limit or take-profit-limit does when its triggered limit does not fill.</summary>
public enum FallbackAction : byte
{
    /// <summary>The remaining quantity executes as a market order.</summary>
    Market = 0,
    /// <summary>The order is cancelled.</summary>
    Cancel = 1,
}

/// <summary>
/// A triggered stop-limit's gap fallback: when it has rested unfilled for <see cref="After"/> since its
/// trigger, or the index has run past <see cref="WorstPrice"/> (at or below it for a sell, at or above
/// it for a buy), <see cref="Action"/> applies. At least one of the two conditions is set.
/// </summary>
public sealed record OrderFallback(TimeSpan? After, decimal? WorstPrice, FallbackAction Action);

/// <summary>
/// An order's risk options, kept apart because few orders carry any: wick protection
/// (<see cref="TriggerConfirmation"/>: the price must still be beyond the trigger this long after it
/// first reached it) and the stop-limit gap <see cref="Fallback"/>.
/// </summary>
public sealed record OrderRiskSpec(TimeSpan? TriggerConfirmation, OrderFallback? Fallback)
{
    public static OrderRiskSpec? Of(TimeSpan? confirmation, OrderFallback? fallback) =>
        confirmation is null && fallback is null ? null : new OrderRiskSpec(confirmation, fallback);
}
