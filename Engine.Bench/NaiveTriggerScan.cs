using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Bench;

/// <summary>
/// The baseline the trigger book replaces: every waiting order in one plain array, and every tick
/// checks every order (orders of other symbols are skipped by an int compare), updating each
/// trailing stop's extreme per order per tick. Same firing semantics as the book: a Rise level fires
/// at price &gt;= trigger, a Fall level at price &lt;= trigger; a trailing sell follows the highest price
/// and fires at price &lt;= high × (1 − rate) or high − amount, a trailing buy follows the lowest and
/// fires at price &gt;= low × (1 + rate) or low + amount (extremes move before the check); an
/// activation price, once reached, starts the trailing from that tick's price.
/// It only detects triggers: it does not fill, rest limits or liquidate.
/// </summary>
internal sealed class NaiveTriggerScan
{
    private readonly Entry[] _orders;

    public NaiveTriggerScan(GeneratedOrder[] orders, long[] numbers)
    {
        _orders = new Entry[orders.Length];
        for (var i = 0; i < orders.Length; i++)
        {
            var o = orders[i];
            var r = o.Request;
            var fall = OrderRules.FireDirection(r.Type, r.Side) == TriggerDirection.Fall;
            ref var e = ref _orders[i];
            e.Key = numbers[i];
            e.Symbol = o.Symbol;
            e.Source = r.TriggerBy;
            e.Fall = fall;
            e.Live = true;
            switch (r.Type)
            {
                case OrderType.TrailingStop when r.ActivationPrice is { } activation:
                    e.Kind = EntryKind.Activation;
                    e.Trigger = activation;
                    e.ActivateRise = OrderRules.ActivationDirection(r.Side) == TriggerDirection.Rise;
                    e.Callback = r.CallbackRate ?? r.CallbackAmount!.Value;
                    e.IsAmount = r.CallbackAmount is not null;
                    break;
                case OrderType.TrailingStop:
                    e.Kind = EntryKind.Trailing;
                    e.Extreme = Market.StartPrices[o.Symbol];
                    e.Callback = r.CallbackRate ?? r.CallbackAmount!.Value;
                    e.IsAmount = r.CallbackAmount is not null;
                    break;
                default:
                    e.Kind = EntryKind.Level;
                    e.Trigger = r.TriggerPrice!.Value;
                    break;
            }
        }
    }

    public int Count => _orders.Length;

    /// <summary>Keys fired so far, when recording.</summary>
    public List<long>? Fired { get; set; }

    public int Activations { get; private set; }

    /// <summary>One tick: <paramref name="price"/> on every source (or on the index only).</summary>
    public int OnTick(int symbol, decimal price, bool indexOnly)
    {
        var fired = 0;
        var orders = _orders;
        for (var i = 0; i < orders.Length; i++)
        {
            ref var o = ref orders[i];
            if (o.Symbol != symbol || !o.Live) continue;
            if (indexOnly && o.Source != TriggerSource.Index) continue;
            bool fire;
            switch (o.Kind)
            {
                case EntryKind.Level:
                    fire = o.Fall ? price <= o.Trigger : price >= o.Trigger;
                    break;
                case EntryKind.Activation:
                    if (o.ActivateRise ? price >= o.Trigger : price <= o.Trigger)
                    {
                        o.Kind = EntryKind.Trailing;
                        o.Extreme = price;
                        Activations++;
                    }

                    continue;
                default:
                    if (o.Fall)
                    {
                        if (price > o.Extreme) o.Extreme = price;
                        fire = price <= (o.IsAmount ? o.Extreme - o.Callback : o.Extreme * (1m - o.Callback));
                    }
                    else
                    {
                        if (price < o.Extreme) o.Extreme = price;
                        fire = price >= (o.IsAmount ? o.Extreme + o.Callback : o.Extreme * (1m + o.Callback));
                    }

                    break;
            }

            if (!fire) continue;
            o.Live = false;
            fired++;
            Fired?.Add(o.Key);
        }

        return fired;
    }

    private enum EntryKind : byte
    {
        Level,
        Activation,
        Trailing,
    }

    private struct Entry
    {
        public decimal Trigger;
        public decimal Callback;
        public decimal Extreme;
        public long Key;
        public int Symbol;
        public TriggerSource Source;
        public EntryKind Kind;
        public bool Fall;
        public bool ActivateRise;
        public bool IsAmount;
        public bool Live;
    }
}
