using Engine.Grains.Instruments;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Silo.Pricing;

/// <summary>
/// Aggregates ticks from every source into last, index (RPI) and mark per symbol, and sends each
/// change to every shard. Ticks may arrive from many threads; one lock keeps each symbol's updates
/// in order in every shard's mailbox.
/// </summary>
public sealed class PriceService
{
    private readonly Dictionary<string, SymbolPriceIndex> _indexes;
    private readonly InstrumentCatalog _instruments;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly Action<string, Quote> _broadcast;

    public PriceService(InstrumentCatalog instruments, PriceIndexSettings settings, TimeProvider time, Action<string, Quote> broadcast)
    {
        _instruments = instruments;
        _indexes = instruments.All.ToDictionary(i => i.Symbol, i => new SymbolPriceIndex(i.Symbol, settings), StringComparer.Ordinal);
        _time = time;
        _broadcast = broadcast;
    }

    /// <summary>Takes ticks (symbols already validated); returns how many were for known symbols.</summary>
    public int Ingest(IReadOnlyList<PriceTick> ticks)
    {
        var accepted = 0;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            foreach (var tick in ticks)
            {
                if (!_indexes.TryGetValue(tick.Symbol, out var index)) continue;
                accepted++;
                if (index.Apply(tick, now)) _broadcast(tick.Symbol, QuoteOf(index));
            }
        }

        return accepted;
    }

    /// <summary>Sources go stale without new ticks: re-evaluates every symbol at the current time.</summary>
    public void Refresh()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            foreach (var index in _indexes.Values)
                if (index.Refresh(now))
                    _broadcast(index.Symbol, QuoteOf(index));
        }
    }

    public SymbolPrices? Snapshot(string symbol)
    {
        lock (_gate)
        {
            if (!_indexes.TryGetValue(symbol, out var index)) return null;
            var snapshot = index.Snapshot();
            return snapshot with { Mark = RoundedMark(index) };
        }
    }

    private Quote QuoteOf(SymbolPriceIndex index) => new(index.Last, index.Index, RoundedMark(index));

    /// <summary>The mark is a time-weighted mean with many digits; positions and triggers see it on the tick grid.</summary>
    private decimal? RoundedMark(SymbolPriceIndex index) =>
        index.Mark is { } mark ? _instruments.Find(index.Symbol)!.RoundToTick(mark) : null;
}
