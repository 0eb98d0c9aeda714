namespace Engine.Grains.Pricing;

/// <summary>A source's latest accepted tick and whether it took part in the current index.</summary>
public sealed record SourceQuote(string Source, decimal Price, DateTimeOffset Timestamp, bool Included);

/// <summary>
/// A point-in-time view of one symbol's prices. Values are null until a first price exists.
/// <see cref="Timestamp"/> is the timestamp of the tick that set <see cref="Last"/>.
/// </summary>
public sealed record SymbolPrices(
    string Symbol,
    decimal? Last,
    decimal? Index,
    decimal? Mark,
    bool Degraded,
    DateTimeOffset? Timestamp,
    IReadOnlyList<SourceQuote> Sources);
