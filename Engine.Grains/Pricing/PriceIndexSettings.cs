namespace Engine.Grains.Pricing;

/// <summary>How a symbol's index and mark are derived from its price sources.</summary>
/// <param name="Staleness">A source whose latest tick is older than this, measured against the caller's
/// <c>now</c>, is not fresh and takes no part in the index.</param>
/// <param name="OutlierDistance">A fresh source further than this fraction from the median of the fresh
/// sources is dropped, so a single venue's wick cannot move the index.</param>
/// <param name="MinSources">Fewer fresh, non-outlier sources than this flag the index degraded.</param>
/// <param name="MarkWindow">Mark is the time-weighted mean of the index over this window; zero makes
/// mark equal to index.</param>
public sealed record PriceIndexSettings(
    TimeSpan Staleness,
    decimal OutlierDistance,
    int MinSources,
    TimeSpan MarkWindow)
{
    public static PriceIndexSettings Default { get; } =
        new(TimeSpan.FromSeconds(10), 0.02m, 2, TimeSpan.FromSeconds(5));
}
