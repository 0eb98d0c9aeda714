namespace Engine.Grains.Risk;

/// <summary>
/// One symbol's halt state: its circuit breaker (price move within a window, degraded index) and the
/// operator's manual halt. Fed every index change and the passing of time; says when the symbol's
/// halt changes. Pure and single-writer: the caller serializes access and supplies the time.
/// </summary>
/// <remarks>
/// <para>The move check keeps the window's lowest and highest index in two monotonic queues, so an
/// index change costs amortized O(1) and a few decimal comparisons, whatever the tick rate.</para>
/// <para>After a resume the window starts again from the resume price, so the move that tripped the
/// breaker does not trip it again. A degraded index halts only once the index has been healthy since
/// the start or the last resume (an engine that just started has too few sources for a moment); an
/// operator who resumes a degraded symbol overrides the degraded halt until the index is healthy
/// again. Reasons rank operator, then price move, then degraded index.</para>
/// </remarks>
public sealed class SymbolCircuitBreaker
{
    private readonly CircuitBreakerSettings _settings;
    private readonly decimal _up;
    private readonly decimal _down;
    private readonly MonotonicQueue _lows = new(lowest: true);
    private readonly MonotonicQueue _highs = new(lowest: false);
    private decimal? _last;
    private bool _healthySeen;
    private bool _degradedHalt;
    private bool _degradedOverride;
    private DateTimeOffset? _moveUntil;
    private bool _operatorHalt;
    private DateTimeOffset? _operatorUntil;

    public SymbolCircuitBreaker(string symbol, CircuitBreakerSettings settings)
    {
        ArgumentException.ThrowIfNullOrEmpty(symbol);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegative(settings.MaxMove);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(settings.MaxMove, 1m);
        if (settings.MaxMove > 0m)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(settings.Window, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(settings.Pause, TimeSpan.Zero);
        }

        Symbol = symbol;
        _settings = settings;
        _up = 1m + settings.MaxMove;
        _down = 1m - settings.MaxMove;
    }

    public string Symbol { get; }

    /// <summary>The current halt, or null while the symbol trades.</summary>
    public SymbolHalt? Halt { get; private set; }

    /// <summary>Why the last halt ended (set when a change resumes the symbol).</summary>
    public string? ResumeReason { get; private set; }

    /// <summary>Index samples the move check holds: bounded by the window, for tests.</summary>
    internal int WindowLength => Math.Max(_lows.Count, _highs.Count);

    /// <summary>A new index (or degraded flag) at <paramref name="now"/>. True when <see cref="Halt"/> changed.</summary>
    public bool Observe(DateTimeOffset now, decimal? index, bool degraded)
    {
        if (index is not { } price) return false;
        _last = price;
        if (_settings.HaltOnDegraded)
        {
            if (!degraded)
            {
                _healthySeen = true;
                _degradedHalt = false;
                _degradedOverride = false;
            }
            else if (_healthySeen && !_degradedOverride)
            {
                _degradedHalt = true;
            }
        }

        if (_settings.MaxMove > 0m && _moveUntil is null)
        {
            var ticks = now.UtcTicks;
            var from = ticks - _settings.Window.Ticks;
            _lows.DropBefore(from);
            _highs.DropBefore(from);
            if ((_lows.Count > 0 && price > _lows.Best * _up) || (_highs.Count > 0 && price < _highs.Best * _down))
            {
                _moveUntil = now + _settings.Pause;
                _lows.Clear();
                _highs.Clear();
            }
            else
            {
                _lows.Push(ticks, price);
                _highs.Push(ticks, price);
            }
        }

        return Settle(now, null);
    }

    /// <summary>Time passes: a breaker's pause or an operator halt's end may come. True when <see cref="Halt"/> changed.</summary>
    public bool Advance(DateTimeOffset now)
    {
        string? ended = null;
        if (_moveUntil is { } until && until <= now)
        {
            _moveUntil = null;
            Restart(now);
            ended = HaltReasons.BreakerClosed;
        }

        if (_operatorHalt && _operatorUntil is { } end && end <= now)
        {
            _operatorHalt = false;
            _operatorUntil = null;
            ended = HaltReasons.UntilReached;
        }

        return Settle(now, ended);
    }

    /// <summary>An operator halts the symbol, until <paramref name="until"/> or a resume. True when <see cref="Halt"/> changed.</summary>
    public bool OperatorHalt(DateTimeOffset now, DateTimeOffset? until)
    {
        _operatorHalt = true;
        _operatorUntil = until;
        return Settle(now, null);
    }

    /// <summary>
    /// An operator resumes the symbol: every halt ends, the move window starts again and a degraded
    /// index is tolerated until it is healthy again. True when <see cref="Halt"/> changed.
    /// </summary>
    public bool OperatorResume(DateTimeOffset now)
    {
        _operatorHalt = false;
        _operatorUntil = null;
        _moveUntil = null;
        if (_degradedHalt)
        {
            _degradedHalt = false;
            _degradedOverride = true;
        }

        Restart(now);
        return Settle(now, HaltReasons.Operator);
    }

    /// <summary>Takes over a halt recovered from the journal (the engine restarted while it held).</summary>
    public void Restore(SymbolHalt halt)
    {
        ArgumentNullException.ThrowIfNull(halt);
        switch (halt.Reason)
        {
            case HaltReasons.Operator:
                _operatorHalt = true;
                _operatorUntil = halt.Until;
                break;
            case HaltReasons.PriceMove:
                _moveUntil = halt.Until ?? halt.Since + _settings.Pause;
                break;
            default:
                _degradedHalt = true;
                _healthySeen = true;
                break;
        }

        Halt = halt;
    }

    private void Restart(DateTimeOffset now)
    {
        _lows.Clear();
        _highs.Clear();
        if (_last is { } last && _settings.MaxMove > 0m)
        {
            _lows.Push(now.UtcTicks, last);
            _highs.Push(now.UtcTicks, last);
        }
    }

    /// <summary>Derives the halt from the flags; <paramref name="ended"/> names what ended if the symbol resumes.</summary>
    private bool Settle(DateTimeOffset now, string? ended)
    {
        var (reason, until) = _operatorHalt ? (HaltReasons.Operator, _operatorUntil)
            : _moveUntil is { } moveUntil ? (HaltReasons.PriceMove, moveUntil)
            : _degradedHalt ? (HaltReasons.IndexDegraded, (DateTimeOffset?)null)
            : ((string?)null, (DateTimeOffset?)null);
        var current = Halt;
        if (reason is null)
        {
            if (current is null) return false;
            ResumeReason = ended ?? (current.Reason == HaltReasons.IndexDegraded ? HaltReasons.IndexRecovered : HaltReasons.BreakerClosed);
            Halt = null;
            return true;
        }

        if (current is not null && current.Reason == reason && current.Until == until) return false;
        Halt = new SymbolHalt(reason, current?.Since ?? now, until);
        return true;
    }

    /// <summary>(time, price) samples whose front is the lowest (or highest) price of those kept.</summary>
    private sealed class MonotonicQueue(bool lowest)
    {
        private long[] _times = new long[16];
        private decimal[] _prices = new decimal[16];
        private int _head;
        private int _count;

        public int Count => _count;

        public decimal Best => _prices[_head];

        public void Clear()
        {
            _head = 0;
            _count = 0;
        }

        public void DropBefore(long ticks)
        {
            while (_count > 0 && _times[_head] < ticks)
            {
                _head = (_head + 1) & (_times.Length - 1);
                _count--;
            }
        }

        public void Push(long ticks, decimal price)
        {
            // A sample that can never be the best again (an older one no better than the new) goes.
            while (_count > 0)
            {
                var back = (_head + _count - 1) & (_times.Length - 1);
                if (lowest ? _prices[back] < price : _prices[back] > price) break;
                _count--;
            }

            if (_count == _times.Length) Grow();
            var at = (_head + _count) & (_times.Length - 1);
            _times[at] = ticks;
            _prices[at] = price;
            _count++;
        }

        private void Grow()
        {
            var times = new long[_times.Length * 2];
            var prices = new decimal[_prices.Length * 2];
            for (var i = 0; i < _count; i++)
            {
                var from = (_head + i) & (_times.Length - 1);
                times[i] = _times[from];
                prices[i] = _prices[from];
            }

            _times = times;
            _prices = prices;
            _head = 0;
        }
    }
}
