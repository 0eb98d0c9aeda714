using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;
using Engine.Grains.Risk;

namespace Engine.Grains;

public sealed partial class ShardGrains
{
    /// <summary>
    /// Sets a symbol's halt as the runtime's circuit breaker or an operator decided it (every shard gets
    /// the same calls, in the same order as the prices). A halt pauses every book of the symbol: stops,
    /// limits, trailing stops, confirmations, fallbacks, liquidations and the closes of locked buckets
    /// wait. A resume (<paramref name="halt"/> null) evaluates them at the prices of that moment.
    /// Nothing is emitted when the shard already has that state.
    /// </summary>
    public void SetSymbolHalt(string symbol, SymbolHalt? halt, string resumeReason, DateTimeOffset now, List<EngineEvent> output)
    {
        _now = now;
        _out = output;
        if (Instruments.Find(symbol) is not { } instrument) return;
        symbol = instrument.Symbol;
        var current = _halts.GetValueOrDefault(symbol);
        if (halt is not null)
        {
            if (current is not null && current.Reason == halt.Reason && current.Until == halt.Until) return;
            Emit(new SymbolHalted(symbol, halt.Reason, halt.Since, halt.Until) { At = now });
            return;
        }

        if (current is null) return;
        Emit(new SymbolResumed(symbol, resumeReason) { At = now });
        var quote = QuoteOf(symbol);
        if (quote.Index is { } index) Evaluate(symbol, TriggerSource.Index, index);
        if (quote.Mark is { } mark) Evaluate(symbol, TriggerSource.Mark, mark);
        if (quote.Last is { } last) Evaluate(symbol, TriggerSource.Last, last);
        if (_confirmationQueue.Count != 0) ResolveConfirmations();
        if (_fallbackDeadlines.Count != 0) ResolveFallbackDeadlines();
        AfterPrices(symbol);
    }

    /// <summary>
    /// An order that starts on a halted symbol: a market one cannot execute; a trailing stop without an
    /// activation price starts trailing from the current price (that fires nothing); the others wait in
    /// their book, unchecked until the resume.
    /// </summary>
    private void StartWhileHalted(Order order)
    {
        if (order.Phase == OrderPhase.Executing)
            Finish(order, new OrderRejected(order.Number, OrderReasons.SymbolHalted) { At = _now, Account = order.Account });
        else if (order.Phase == OrderPhase.AwaitingActivation && order.Spec.ActivationPrice is null && QuoteOf(order.Symbol).Of(order.Spec.TriggerBy) is { } watched)
            Emit(new TrailingStopActivated(order.Number, watched) { At = _now, Account = order.Account });
    }

    /// <summary>
    /// Why a new order may not enter: its account or bucket is locked (kill switch, daily loss limit), or
    /// it is a market order on a halted symbol. Limit and conditional orders on a halted symbol are
    /// accepted and wait for the resume.
    /// </summary>
    private Rejection? Blocked(Accounts.Account account, Margin.Bucket bucket, OrderSpec spec)
    {
        if (LockReason(account, bucket) is { } reason)
            return Rejection.Business("trading_disabled", reason == OrderReasons.KillSwitch
                ? $"the kill switch is on for this {(account.KillSwitch ? "account" : "bucket")}: release it first"
                : "the bucket reached its daily loss limit: locked until the next UTC day or a release");
        if (spec.Type == OrderType.Market && spec.Parent is null && IsHalted(spec.Symbol))
            return Rejection.Business("symbol_halted", $"{spec.Symbol} is halted ({_halts[spec.Symbol].Reason}): market orders wait for it to resume");
        return null;
    }
}
