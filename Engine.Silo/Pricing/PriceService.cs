using Engine.Grains.Instruments;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;
using Engine.Grains.Risk;

namespace Engine.Silo.Pricing;

/// <summary>
/// Aggregates ticks from every source into last, index (RPI) and mark per symbol, and sends each
/// change to every shard. Ticks may arrive from many threads; one lock keeps each symbol's updates
/// in order in every shard's mailbox.
/// </summary>
/// <remarks>
/// Each symbol's circuit breaker and manual halt live here too, next to the index they watch: a
/// halt decided by a tick is sent to the shards before that tick's prices (so the tick that trips
/// the breaker fires nothing), under the same lock, so every shard sees halts and prices in the same
/// order. The shards journal each halt and resume; at start the engine restores the breakers from them.
/// </remarks>
public sealed class PriceService
{
    private readonly Dictionary<string, SymbolPriceIndex> _indexes;
    private readonly Dictionary<string, SymbolCircuitBreaker> _breakers;
    private readonly InstrumentCatalog _instruments;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly Action<string, Quote> _broadcast;
    private readonly Func<string, SymbolHalt?, string, Task> _broadcastHalt;

    /// <param name="broadcastHalt">Sends a symbol's new halt (null: resumed, with the reason) to every shard;
    /// the task completes when every shard has journaled it.</param>
    public PriceService(InstrumentCatalog instruments, PriceIndexSettings settings, TimeProvider time, Action<string, Quote> broadcast,
        CircuitBreakerSettings? breakers = null, Func<string, SymbolHalt?, string, Task>? broadcastHalt = null)
    {
        _instruments = instruments;
        _indexes = instruments.All.ToDictionary(i => i.Symbol, i => new SymbolPriceIndex(i.Symbol, settings), StringComparer.Ordinal);
        _breakers = instruments.All.ToDictionary(i => i.Symbol, i => new SymbolCircuitBreaker(i.Symbol, breakers ?? CircuitBreakerSettings.Off), StringComparer.Ordinal);
        _time = time;
        _broadcast = broadcast;
        _broadcastHalt = broadcastHalt ?? ((_, _, _) => Task.CompletedTask);
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
                if (!index.Apply(tick, now)) continue;
                Publish(_breakers[tick.Symbol], index, now, quoteChanged: true);
            }
        }

        return accepted;
    }

    /// <summary>
    /// Sources go stale without new ticks: re-evaluates every symbol at the current time; breakers'
    /// pauses and operator halts with an end may end.
    /// </summary>
    public void Refresh()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            foreach (var index in _indexes.Values)
            {
                var breaker = _breakers[index.Symbol];
                Publish(breaker, index, now, index.Refresh(now));
                if (breaker.Advance(now)) SendHalt(breaker);
            }
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

    /// <summary>A symbol's halt now (null while it trades); false when the symbol is unknown.</summary>
    public bool TryGetHalt(string symbol, out SymbolHalt? halt)
    {
        lock (_gate)
        {
            halt = null;
            if (!_breakers.TryGetValue(symbol, out var breaker)) return false;
            halt = breaker.Halt;
            return true;
        }
    }

    /// <summary>An operator halts a symbol (until a time, or a resume). Completes when every shard has journaled it.</summary>
    public Task HaltAsync(string symbol, DateTimeOffset? until)
    {
        lock (_gate)
        {
            var breaker = _breakers[symbol];
            return breaker.OperatorHalt(_time.GetUtcNow(), until) ? SendHalt(breaker) : Task.CompletedTask;
        }
    }

    /// <summary>An operator resumes a symbol (every halt of it ends). Completes when every shard has journaled it.</summary>
    public Task ResumeAsync(string symbol)
    {
        lock (_gate)
        {
            var breaker = _breakers[symbol];
            return breaker.OperatorResume(_time.GetUtcNow()) ? SendHalt(breaker) : Task.CompletedTask;
        }
    }

    /// <summary>At start: the halts the shards recovered become the breakers' state again.</summary>
    public void Restore(IReadOnlyDictionary<string, SymbolHalt> halts)
    {
        lock (_gate)
        {
            foreach (var (symbol, halt) in halts)
                if (_breakers.TryGetValue(symbol, out var breaker))
                    breaker.Restore(halt);
        }
    }

    /// <summary>
    /// Sends a symbol's new prices with what they did to its breaker: a halt goes before the prices
    /// (the tick that trips the breaker fires nothing), a resume after them (the tick that heals the
    /// index is the price the waiting orders are evaluated at).
    /// </summary>
    private void Publish(SymbolCircuitBreaker breaker, SymbolPriceIndex index, DateTimeOffset now, bool quoteChanged)
    {
        if (!quoteChanged) return;
        var haltChanged = breaker.Observe(now, index.Index, index.Degraded);
        if (haltChanged && breaker.Halt is not null) SendHalt(breaker);
        _broadcast(index.Symbol, QuoteOf(index));
        if (haltChanged && breaker.Halt is null) SendHalt(breaker);
    }

    private Task SendHalt(SymbolCircuitBreaker breaker) =>
        _broadcastHalt(breaker.Symbol, breaker.Halt, breaker.Halt is null ? breaker.ResumeReason ?? HaltReasons.Operator : "");

    private Quote QuoteOf(SymbolPriceIndex index) => new(index.Last, index.Index, RoundedMark(index));

    /// <summary>The mark is a time-weighted mean with many digits; positions and triggers see it on the tick grid.</summary>
    private decimal? RoundedMark(SymbolPriceIndex index) =>
        index.Mark is { } mark ? _instruments.Find(index.Symbol)!.RoundToTick(mark) : null;
}
