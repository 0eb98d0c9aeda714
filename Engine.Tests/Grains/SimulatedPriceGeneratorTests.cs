using Engine.Grains.Instruments;
using Engine.Grains.Pricing;

namespace Engine.Tests.Grains;

public sealed class SimulatedPriceGeneratorTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly IReadOnlyList<(string Symbol, decimal StartPrice, decimal TickSize)> DefaultSymbols =
        SimulatedPriceGenerator.DefaultStartPrices(InstrumentCatalog.Default);

    private static List<PriceTick> Run(SimulatedPriceGenerator generator, int steps)
    {
        var ticks = new List<PriceTick>();
        for (var i = 0; i < steps; i++)
        {
            ticks.AddRange(generator.Next(T0.AddSeconds(i)));
        }

        return ticks;
    }

    private static decimal TickSizeOf(string symbol) => InstrumentCatalog.Default.Find(symbol)!.TickSize;

    /// <summary>Each step's ticks of one symbol, one list per (step, symbol).</summary>
    private static IEnumerable<PriceTick[]> Quotes(SimulatedPriceGenerator generator, int steps)
    {
        for (var i = 0; i < steps; i++)
        {
            foreach (var group in generator.Next(T0.AddSeconds(i)).GroupBy(t => t.Symbol))
            {
                yield return group.ToArray();
            }
        }
    }

    private static decimal Median(IEnumerable<decimal> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2m;
    }

    [Fact]
    public void Next_SameSeed_SameTicks()
    {
        var first = Run(new SimulatedPriceGenerator(42, DefaultSymbols, wickOneIn: 20), 200);
        var second = Run(new SimulatedPriceGenerator(42, DefaultSymbols, wickOneIn: 20), 200);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Next_DifferentSeed_DifferentTicks()
    {
        var first = Run(new SimulatedPriceGenerator(42, DefaultSymbols), 50);
        var second = Run(new SimulatedPriceGenerator(43, DefaultSymbols), 50);

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Next_OneStep_OneTickPerSourcePerSymbolStampedNow()
    {
        var generator = new SimulatedPriceGenerator(1, DefaultSymbols);
        var now = T0.AddMinutes(3);

        var ticks = generator.Next(now);

        var expected = DefaultSymbols
            .SelectMany(s => new[] { "sim-a", "sim-b", "sim-c" }.Select(source => (source, s.Symbol)))
            .ToArray();
        Assert.Equal(expected, ticks.Select(t => (t.Source, t.Symbol)).ToArray());
        Assert.All(ticks, t => Assert.Equal(now, t.Timestamp));
        Assert.Equal(["sim-a", "sim-b", "sim-c"], generator.SourceNames);
    }

    [Fact]
    public void Next_FiveSources_NamedInLetterOrder()
    {
        var generator = new SimulatedPriceGenerator(1, [("BTC-USDT", 97_000m, 0.1m)], sourcesPerSymbol: 5);

        var sources = generator.Next(T0).Select(t => t.Source).ToArray();

        Assert.Equal(["sim-a", "sim-b", "sim-c", "sim-d", "sim-e"], sources);
    }

    [Fact]
    public void Next_ManySteps_PricesPositiveAndOnTickGrid()
    {
        var ticks = Run(new SimulatedPriceGenerator(7, DefaultSymbols, wickOneIn: 50), 1_000);

        Assert.All(ticks, t =>
        {
            Assert.True(t.Price > 0m, $"{t.Symbol} {t.Price}");
            Assert.Equal(0m, t.Price % TickSizeOf(t.Symbol));
        });
    }

    [Fact]
    public void Next_CoarseTickAndTinyPrice_StaysAtLeastOneTick()
    {
        var generator = new SimulatedPriceGenerator(3, [("TINY-USDT", 0.01m, 0.01m)], stepVolatility: 0.5m);

        var ticks = Run(generator, 500);

        Assert.All(ticks, t => Assert.True(t.Price >= 0.01m && t.Price % 0.01m == 0m, t.Price.ToString()));
    }

    [Fact]
    public void Next_ManySteps_TruePriceWalks()
    {
        var ticks = Run(new SimulatedPriceGenerator(11, DefaultSymbols, wickOneIn: 0), 1_000);

        var btc = ticks.Where(t => t.Symbol == "BTC-USDT" && t.Source == "sim-a").Select(t => t.Price).ToArray();

        Assert.True(btc.Distinct().Count() > 100, $"only {btc.Distinct().Count()} distinct prices");
        Assert.InRange(btc.Max() / btc.Min(), 1.002m, 1.5m);
    }

    [Fact]
    public void Next_NoWicks_SourcesDisagreeSlightly()
    {
        const decimal disagreement = 0.0002m;
        var generator = new SimulatedPriceGenerator(5, DefaultSymbols, sourceDisagreement: disagreement, wickOneIn: 0);
        var btcSteps = 0;
        var btcStepsWithDisagreement = 0;

        foreach (var quotes in Quotes(generator, 500))
        {
            var min = quotes.Min(t => t.Price);
            var max = quotes.Max(t => t.Price);
            var tick = TickSizeOf(quotes[0].Symbol);

            // Each source sits within ±disagreement of the true price, plus half a tick of rounding;
            // the true price is at most max / (1 - disagreement).
            Assert.True(max - min <= (2 * disagreement * max / (1 - disagreement)) + tick, $"{quotes[0].Symbol}: {min}..{max}");

            if (quotes[0].Symbol == "BTC-USDT")
            {
                btcSteps++;
                btcStepsWithDisagreement += max > min ? 1 : 0;
            }
        }

        // BTC's spread allowance is about 190 ticks, so identical quotes should be rare.
        Assert.True(btcStepsWithDisagreement > btcSteps * 9 / 10, $"{btcStepsWithDisagreement} of {btcSteps}");
    }

    [Fact]
    public void Next_WickOneInHundred_OneSourceWicksAtAboutThatRate()
    {
        const decimal wickSize = 0.03m;
        var generator = new SimulatedPriceGenerator(9, DefaultSymbols, wickOneIn: 100, wickSize: wickSize);
        var symbolSteps = 0;
        var wicks = 0;

        foreach (var quotes in Quotes(generator, 2_000))
        {
            symbolSteps++;
            var median = Median(quotes.Select(t => t.Price));
            var strays = quotes.Count(t => Math.Abs(t.Price - median) > median * wickSize / 2);

            Assert.InRange(strays, 0, 1);
            wicks += strays;
        }

        // 20,000 symbol-steps at one in 100: 200 expected.
        Assert.Equal(20_000, symbolSteps);
        Assert.InRange(wicks, 140, 260);
    }

    [Fact]
    public void Next_Wick_MovesOneSourceByWickSize()
    {
        const decimal wickSize = 0.03m;
        var generator = new SimulatedPriceGenerator(9, [("BTC-USDT", 97_000m, 0.1m)], wickOneIn: 10, wickSize: wickSize);

        var wicked = Quotes(generator, 1_000)
            .Select(quotes => (Quotes: quotes, Median: Median(quotes.Select(t => t.Price))))
            .Where(x => x.Quotes.Any(t => Math.Abs(t.Price - x.Median) > x.Median * wickSize / 2))
            .ToArray();

        Assert.NotEmpty(wicked);
        Assert.All(wicked, x =>
        {
            var stray = x.Quotes.Single(t => Math.Abs(t.Price - x.Median) > x.Median * wickSize / 2);
            var distance = Math.Abs(stray.Price - x.Median) / x.Median;
            Assert.InRange(distance, 0.029m, 0.031m);
        });
    }

    [Fact]
    public void Next_WickOneInZero_NeverWicks()
    {
        var generator = new SimulatedPriceGenerator(9, DefaultSymbols, wickOneIn: 0);

        foreach (var quotes in Quotes(generator, 1_000))
        {
            var median = Median(quotes.Select(t => t.Price));
            Assert.All(quotes, t => Assert.True(Math.Abs(t.Price - median) <= median * 0.01m, $"{t.Symbol} {t.Price}"));
        }
    }

    [Fact]
    public void DefaultStartPrices_DefaultCatalog_KnownLevelsOnTickGrid()
    {
        var prices = SimulatedPriceGenerator.DefaultStartPrices(InstrumentCatalog.Default);

        Assert.Equal(InstrumentCatalog.Default.All.Count, prices.Count);
        Assert.Equal(97_000m, prices.Single(p => p.Symbol == "BTC-USDT").StartPrice);
        Assert.Equal(3_400m, prices.Single(p => p.Symbol == "ETH-USDT").StartPrice);
        Assert.Equal(190m, prices.Single(p => p.Symbol == "SOL-USDT").StartPrice);
        Assert.All(prices, p =>
        {
            Assert.Equal(TickSizeOf(p.Symbol), p.TickSize);
            Assert.True(p.StartPrice > 0m);
            Assert.Equal(0m, p.StartPrice % p.TickSize);
            Assert.NotEqual(100m, p.StartPrice);
        });
    }

    [Fact]
    public void DefaultStartPrices_UnknownSymbol_StartsAt100()
    {
        var catalog = new InstrumentCatalog([new Instrument("DOGE-USDT", 0.00001m, 1m, 1m, 5m, 50, 0.015m, 0.0002m, 0.0005m)]);

        var prices = SimulatedPriceGenerator.DefaultStartPrices(catalog);

        Assert.Equal([("DOGE-USDT", 100m, 0.00001m)], prices);
    }

    [Fact]
    public void Constructor_DuplicateSymbol_Throws()
    {
        Assert.Throws<ArgumentException>(() =>
            new SimulatedPriceGenerator(1, [("BTC-USDT", 97_000m, 0.1m), ("BTC-USDT", 96_000m, 0.1m)]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(27)]
    public void Constructor_SourceCountOutOfRange_Throws(int sources)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new SimulatedPriceGenerator(1, DefaultSymbols, sourcesPerSymbol: sources));
    }
}
