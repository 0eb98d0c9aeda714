using Engine.Grains.Instruments;
using Engine.Grains.Pricing;

namespace Engine.Silo.Pricing;

/// <summary>The built-in simulated price feed: seeded ticks from several sources on a timer.</summary>
public sealed class SimulatedFeed : IDisposable
{
    private readonly SimulatedPriceGenerator _generator;
    private readonly PriceService _prices;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();

    public SimulatedFeed(InstrumentCatalog instruments, SimulatedFeedOptions options, PriceService prices, TimeProvider time)
    {
        _generator = new SimulatedPriceGenerator(options.Seed, SimulatedPriceGenerator.DefaultStartPrices(instruments));
        _prices = prices;
        _time = time;
        var period = TimeSpan.FromMilliseconds(Math.Max(10, options.IntervalMilliseconds));
        _timer = time.CreateTimer(_ => Step(), null, TimeSpan.Zero, period);
    }

    private void Step()
    {
        lock (_gate) _prices.Ingest(_generator.Next(_time.GetUtcNow()));
    }

    public void Dispose() => _timer.Dispose();
}
