using Engine.Grains.Pricing;

namespace Engine.Tests.Grains;

public sealed class PriceIndexTests
{
    private const string Symbol = "BTC-USDT";

    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly PriceIndexSettings SingleSource = PriceIndexSettings.Default with { MinSources = 1 };

    private static DateTimeOffset At(int seconds) => T0.AddSeconds(seconds);

    private static PriceTick Tick(string source, decimal price, DateTimeOffset timestamp) =>
        new(source, Symbol, price, timestamp);

    private static SymbolPriceIndex NewIndex(PriceIndexSettings? settings = null) =>
        new(Symbol, settings ?? PriceIndexSettings.Default);

    private static SymbolPriceIndex FedAtT0(params (string Source, decimal Price)[] quotes)
    {
        var index = NewIndex();
        foreach (var (source, price) in quotes)
        {
            index.Apply(Tick(source, price, T0), T0);
        }

        return index;
    }

    private static SourceQuote Quote(SymbolPriceIndex index, string source) =>
        index.Snapshot().Sources.Single(q => q.Source == source);

    [Fact]
    public void Apply_OddNumberOfFreshSources_IndexIsMiddlePrice()
    {
        var index = FedAtT0(("a", 100m), ("b", 101m), ("c", 100.5m));

        Assert.Equal(100.5m, index.Index);
        Assert.False(index.Degraded);
    }

    [Fact]
    public void Apply_EvenNumberOfFreshSources_IndexIsExactMeanOfMiddlePair()
    {
        var index = FedAtT0(("a", 100m), ("b", 101m), ("c", 100.25m), ("d", 100.9m));

        Assert.Equal(100.575m, index.Index);
        Assert.False(index.Degraded);
    }

    [Theory]
    [InlineData(110, 100.4)]
    [InlineData(90, 100.4)]
    public void Apply_SourceBeyondOutlierDistance_DroppedFromIndex(decimal outlier, decimal expectedIndex)
    {
        // The other three sit within 2 % of the fresh median whichever side the outlier is on; keeping
        // the outlier would give a different middle pair.
        var index = FedAtT0(("a", 100m), ("b", 100.4m), ("c", 101m), ("d", outlier));

        Assert.Equal(expectedIndex, index.Index);
        Assert.False(index.Degraded);
        Assert.False(Quote(index, "d").Included);
        Assert.True(Quote(index, "c").Included);
    }

    [Theory]
    [InlineData(102.00, true)]
    [InlineData(102.01, false)]
    [InlineData(98.00, true)]
    [InlineData(97.99, false)]
    public void Apply_SourceAtOrJustBeyondOutlierDistance_IncludedOnlyWithinDistance(decimal price, bool included)
    {
        var index = FedAtT0(("a", 100m), ("b", 100m), ("c", price));

        Assert.Equal(included, Quote(index, "c").Included);
    }

    [Theory]
    [InlineData("a", 110)]
    [InlineData("b", 90)]
    [InlineData("c", 110)]
    [InlineData("c", 90)]
    public void Apply_OneOfThreeSourcesWicksTenPercent_IndexUnchanged(string wickSource, decimal wickPrice)
    {
        var index = FedAtT0(("a", 100m), ("b", 100m), ("c", 100m));

        index.Apply(Tick(wickSource, wickPrice, At(1)), At(1));

        Assert.Equal(100m, index.Index);
        Assert.Equal(100m, index.Mark);
        Assert.False(index.Degraded);
        Assert.Equal(wickPrice, index.Last);
        Assert.False(Quote(index, wickSource).Included);
    }

    [Fact]
    public void Apply_SourceOlderThanStaleness_ExcludedFromIndex()
    {
        var index = FedAtT0(("a", 100m), ("b", 101m), ("c", 102m));

        index.Apply(Tick("a", 100.2m, At(8)), At(8));
        index.Apply(Tick("b", 100.4m, At(11)), At(11));

        Assert.Equal(100.3m, index.Index);
        Assert.False(index.Degraded);
        Assert.False(Quote(index, "c").Included);
    }

    [Fact]
    public void Refresh_FewerFreshSourcesThanMinimum_DegradedWithIndexFromRemaining()
    {
        var index = FedAtT0(("a", 100m), ("b", 101m), ("c", 102m));
        index.Apply(Tick("a", 100.4m, At(5)), At(5));

        var changed = index.Refresh(At(12));

        Assert.True(changed);
        Assert.True(index.Degraded);
        Assert.Equal(100.4m, index.Index);
        Assert.True(Quote(index, "a").Included);
        Assert.False(Quote(index, "b").Included);
    }

    [Fact]
    public void Refresh_NoFreshSources_DegradedAndIndexKeepsPreviousValue()
    {
        var index = FedAtT0(("a", 100m), ("b", 101m), ("c", 102m));

        var changed = index.Refresh(At(11));

        Assert.True(changed);
        Assert.True(index.Degraded);
        Assert.Equal(101m, index.Index);
        Assert.All(index.Snapshot().Sources, q => Assert.False(q.Included));
    }

    [Fact]
    public void Refresh_SourceAgeExactlyStaleness_StillFresh()
    {
        var index = FedAtT0(("a", 100m), ("b", 101m));

        index.Refresh(At(10));
        Assert.False(index.Degraded);

        index.Refresh(At(10).AddTicks(1));
        Assert.True(index.Degraded);
    }

    [Fact]
    public void Refresh_StaleSourceTicksAgain_IncludedAndNotDegraded()
    {
        var index = FedAtT0(("a", 100m), ("b", 101m));
        index.Refresh(At(20));

        index.Apply(Tick("a", 103m, At(21)), At(21));
        index.Apply(Tick("b", 104m, At(21)), At(21));

        Assert.False(index.Degraded);
        Assert.Equal(103.5m, index.Index);
    }

    [Fact]
    public void Apply_SingleSourceWithMinSourcesOne_PassesPriceThrough()
    {
        var index = NewIndex(SingleSource);
        decimal[] prices = [100m, 105.5m, 99.25m, 250m, 0.0001m];

        for (var i = 0; i < prices.Length; i++)
        {
            index.Apply(Tick("feed", prices[i], At(i)), At(i));

            Assert.Equal(prices[i], index.Index);
            Assert.Equal(prices[i], index.Last);
            Assert.False(index.Degraded);
        }
    }

    [Fact]
    public void Apply_SingleSourceWithDefaultSettings_IndexUsableButDegraded()
    {
        var index = NewIndex();

        index.Apply(Tick("feed", 100m, T0), T0);

        Assert.Equal(100m, index.Index);
        Assert.True(index.Degraded);
    }

    [Fact]
    public void Apply_FirstTick_MarkEqualsIndex()
    {
        var index = NewIndex(SingleSource);

        index.Apply(Tick("feed", 100m, T0), T0);

        Assert.Equal(100m, index.Mark);
    }

    [Fact]
    public void Refresh_IndexChangesWithinWindow_MarkIsTimeWeightedMean()
    {
        var index = NewIndex(SingleSource);
        index.Apply(Tick("feed", 100m, At(0)), At(0));
        index.Apply(Tick("feed", 110m, At(1)), At(1));
        index.Apply(Tick("feed", 120m, At(2)), At(2));

        index.Refresh(At(3));
        Assert.Equal(110m, index.Mark);

        // 100 for 1 s, 110 for 1 s, 120 for 2 s.
        index.Refresh(At(4));
        Assert.Equal(112.5m, index.Mark);
    }

    [Fact]
    public void Refresh_AfterMarkWindowPasses_MarkForgetsOldSamples()
    {
        var index = NewIndex(SingleSource);
        index.Apply(Tick("feed", 100m, At(0)), At(0));
        index.Apply(Tick("feed", 110m, At(1)), At(1));
        index.Apply(Tick("feed", 120m, At(2)), At(2));

        // Window [1 s, 6 s]: 110 for 1 s, 120 for 4 s; the 100 has left.
        var changed = index.Refresh(At(6));
        Assert.True(changed);
        Assert.Equal(118m, index.Mark);

        index.Refresh(At(10));
        Assert.Equal(120m, index.Mark);
    }

    [Fact]
    public void Apply_IndexJumpsAfterLongCalm_MarkStartsFromWindowMean()
    {
        var index = NewIndex(SingleSource);
        index.Apply(Tick("feed", 100m, At(0)), At(0));
        index.Apply(Tick("feed", 200m, At(3600)), At(3600));

        index.Refresh(At(3601));

        // Window [3596 s, 3601 s]: 100 for 4 s, 200 for 1 s.
        Assert.Equal(120m, index.Mark);
    }

    [Fact]
    public void Apply_ZeroMarkWindow_MarkEqualsIndex()
    {
        var index = NewIndex(SingleSource with { MarkWindow = TimeSpan.Zero });
        index.Apply(Tick("feed", 100m, At(0)), At(0));

        index.Apply(Tick("feed", 110m, At(1)), At(1));

        Assert.Equal(110m, index.Mark);
    }

    [Fact]
    public void Apply_RapidlyAlternatingIndex_MarkHistoryBoundedAndMarkNearMean()
    {
        var index = NewIndex(SingleSource);

        for (var ms = 0; ms < 20_000; ms++)
        {
            var at = T0.AddMilliseconds(ms);
            index.Apply(Tick("feed", ms % 2 == 0 ? 100m : 102m, at), at);
        }

        Assert.InRange(index.MarkHistoryLength, 1, 2 * 64 + 4);
        Assert.InRange(index.Mark!.Value, 100.95m, 101.05m);
    }

    [Fact]
    public void Apply_NewerTickFromAnySource_LastFollowsIt()
    {
        var index = NewIndex();

        index.Apply(Tick("a", 100m, At(0)), At(0));
        Assert.Equal(100m, index.Last);

        index.Apply(Tick("b", 101m, At(1)), At(1));
        Assert.Equal(101m, index.Last);

        index.Apply(Tick("a", 99m, At(2)), At(2));
        Assert.Equal(99m, index.Last);
        Assert.Equal(At(2), index.Snapshot().Timestamp);
    }

    [Fact]
    public void Apply_FirstTickOfSourceStampedEarlier_LastFollowsArrival()
    {
        var index = NewIndex();
        index.Apply(Tick("a", 100m, At(5)), At(5));

        index.Apply(Tick("b", 101m, At(4)), At(5));

        Assert.Equal(101m, index.Last);
    }

    [Fact]
    public void Apply_TickOlderThanSourcesPrevious_Ignored()
    {
        var index = NewIndex(SingleSource);
        index.Apply(Tick("a", 100m, At(5)), At(5));

        var changed = index.Apply(Tick("a", 90m, At(3)), At(5));

        Assert.False(changed);
        Assert.Equal(100m, index.Last);
        Assert.Equal(100m, index.Index);
        var quote = Quote(index, "a");
        Assert.Equal(100m, quote.Price);
        Assert.Equal(At(5), quote.Timestamp);
    }

    [Fact]
    public void Apply_SameTimestampAsSourcesPrevious_Accepted()
    {
        var index = NewIndex(SingleSource);
        index.Apply(Tick("a", 100m, At(5)), At(5));

        var changed = index.Apply(Tick("a", 101m, At(5)), At(5));

        Assert.True(changed);
        Assert.Equal(101m, index.Index);
    }

    [Fact]
    public void Apply_RepeatedPrice_ReturnsFalseAndNewPriceReturnsTrue()
    {
        var index = NewIndex(SingleSource);

        Assert.True(index.Apply(Tick("a", 100m, At(0)), At(0)));
        Assert.False(index.Apply(Tick("a", 100m, At(1)), At(1)));
        Assert.True(index.Apply(Tick("a", 100.5m, At(2)), At(2)));
    }

    [Fact]
    public void Snapshot_AfterTicks_ListsSourcesByNameWithIncludedFlags()
    {
        var index = NewIndex();
        index.Apply(Tick("d-stale", 100m, At(0)), At(0));
        index.Apply(Tick("c", 100.2m, At(11)), At(11));
        index.Apply(Tick("a", 100m, At(12)), At(12));
        index.Apply(Tick("b-wick", 120m, At(12)), At(12));
        index.Apply(Tick("e", 100.4m, At(12)), At(12));

        var snapshot = index.Snapshot();

        Assert.Equal(Symbol, snapshot.Symbol);
        Assert.Equal(100.4m, snapshot.Last);
        Assert.Equal(100.2m, snapshot.Index);
        Assert.False(snapshot.Degraded);
        Assert.Equal(At(12), snapshot.Timestamp);
        Assert.Equal(
            [
                new SourceQuote("a", 100m, At(12), true),
                new SourceQuote("b-wick", 120m, At(12), false),
                new SourceQuote("c", 100.2m, At(11), true),
                new SourceQuote("d-stale", 100m, At(0), false),
                new SourceQuote("e", 100.4m, At(12), true),
            ],
            snapshot.Sources);
    }

    [Fact]
    public void Snapshot_BeforeAnyTick_NoPricesAndDegraded()
    {
        var snapshot = NewIndex().Snapshot();

        Assert.Null(snapshot.Last);
        Assert.Null(snapshot.Index);
        Assert.Null(snapshot.Mark);
        Assert.Null(snapshot.Timestamp);
        Assert.True(snapshot.Degraded);
        Assert.Empty(snapshot.Sources);
    }

    [Fact]
    public void Apply_TickForOtherSymbol_Throws()
    {
        var index = NewIndex();

        Assert.Throws<ArgumentException>(() => index.Apply(new PriceTick("a", "ETH-USDT", 100m, T0), T0));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Apply_NonPositivePrice_Throws(decimal price)
    {
        var index = NewIndex();

        Assert.Throws<ArgumentOutOfRangeException>(() => index.Apply(Tick("a", price, T0), T0));
    }

    [Fact]
    public void Constructor_InvalidSettings_Throws()
    {
        var d = PriceIndexSettings.Default;

        Assert.Throws<ArgumentOutOfRangeException>(() => new SymbolPriceIndex(Symbol, d with { Staleness = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SymbolPriceIndex(Symbol, d with { OutlierDistance = -0.01m }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SymbolPriceIndex(Symbol, d with { MinSources = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SymbolPriceIndex(Symbol, d with { MarkWindow = TimeSpan.FromSeconds(-1) }));
    }

    [Fact]
    public void Default_Settings_MatchDesign()
    {
        var d = PriceIndexSettings.Default;

        Assert.Equal(TimeSpan.FromSeconds(10), d.Staleness);
        Assert.Equal(0.02m, d.OutlierDistance);
        Assert.Equal(2, d.MinSources);
        Assert.Equal(TimeSpan.FromSeconds(5), d.MarkWindow);
    }
}
