namespace Engine.Grains.Risk;

/// <summary>
/// Why and since when triggering is paused for a symbol. <see cref="Until"/> is when it resumes by
/// itself (a breaker's pause, or an operator halt with an end), null when it waits for a condition
/// or an operator.
/// </summary>
public sealed record SymbolHalt(string Reason, DateTimeOffset Since, DateTimeOffset? Until);

/// <summary>The stable reasons of symbol halts and resumes.</summary>
public static class HaltReasons
{
    /// <summary>Halted or resumed by an operator.</summary>
    public const string Operator = "operator";
    /// <summary>The index moved more than the breaker's fraction within its window.</summary>
    public const string PriceMove = "price_move";
    /// <summary>The index is degraded: too few fresh sources, or sources too far apart.</summary>
    public const string IndexDegraded = "index_degraded";
    /// <summary>A price-move breaker's pause elapsed.</summary>
    public const string BreakerClosed = "breaker_closed";
    /// <summary>The index is backed by enough sources again.</summary>
    public const string IndexRecovered = "index_recovered";
    /// <summary>An operator halt reached the end it was given.</summary>
    public const string UntilReached = "until_reached";
}
