namespace Engine.Grains.Risk;

/// <summary>
/// One symbol's halt state: its circuit breaker (price move within a window, degraded index) and the
/// operator's manual halt. Fed every index change and the passing of time; says when the symbol's
/// halt changes. Pure and single-writer: the caller serializes access and supplies the time.
/// </summary>
/// <remarks>
/// <para>The move check keeps the window's lowest and highest index per thirtieth of the window, with
/// the trip levels computed only when the window's low or high changes (see <see cref="MoveWindow"/>):
/// an index change costs O(1) and a few decimal comparisons, whatever the tick rate, and the halt is
/// derived again only when one of its inputs changed. A sample counts for between one window and one
/// window plus a thirtieth of it.</para>
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
    private readonly bool _moveOn;
    private readonly MoveWindow _window;
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
        _moveOn = settings.MaxMove > 0m;
        _window = new MoveWindow(settings.MaxMove > 0m ? settings.Window : TimeSpan.FromSeconds(1), _up, _down);
    }

    public string Symbol { get; }

    /// <summary>The current halt, or null while the symbol trades.</summary>
    public SymbolHalt? Halt { get; private set; }

    /// <summary>Why the last halt ended (set when a change resumes the symbol).</summary>
    public string? ResumeReason { get; private set; }

    /// <summary>Index samples the move check holds: bounded by the window, for tests.</summary>
    internal int WindowLength => _window.Length;

    /// <summary>A new index (or degraded flag) at <paramref name="now"/>. True when <see cref="Halt"/> changed.</summary>
    public bool Observe(DateTimeOffset now, decimal? index, bool degraded)
    {
        if (index is not { } price) return false;
        _last = price;
        var changed = false;
        if (_settings.HaltOnDegraded)
        {
            if (!degraded)
            {
                changed = _degradedHalt;
                _healthySeen = true;
                _degradedHalt = false;
                _degradedOverride = false;
            }
            else if (_healthySeen && !_degradedOverride && !_degradedHalt)
            {
                _degradedHalt = true;
                changed = true;
            }
        }

        if (_moveOn && _moveUntil is null && _window.Trips(now.UtcTicks, price))
        {
            _moveUntil = now + _settings.Pause;
            _window.Clear();
            changed = true;
        }

        return changed && Settle(now, null);
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
        _window.Clear();
        if (_last is { } last && _moveOn) _window.Trips(now.UtcTicks, last);
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

    /// <summary>
    /// The lowest and highest index over the window, kept per sub-window (<see cref="Steps"/> of them),
    /// with the trip levels: lowest × (1 + fraction) and highest × (1 − fraction). A sample counts for
    /// between one window and one window plus one step (the oldest step leaves whole). A price that
    /// neither trips nor makes a new low or high of its step costs four decimal comparisons; the levels
    /// are multiplied out only when the low or high of the window changes.
    /// </summary>
    private sealed class MoveWindow
    {
        public const int Steps = 30;

        private readonly long _width;
        private readonly decimal _up;
        private readonly decimal _down;
        private readonly long[] _step = new long[Steps];
        private readonly decimal[] _lows = new decimal[Steps];
        private readonly decimal[] _highs = new decimal[Steps];
        private long _current = long.MinValue;
        private long _currentEnd = long.MinValue;
        private decimal _low = decimal.MaxValue;
        private decimal _high = decimal.MinValue;
        private decimal _pastLow = decimal.MaxValue;
        private decimal _pastHigh = decimal.MinValue;
        private decimal _upper = decimal.MaxValue;
        private decimal _lower = decimal.MinValue;

        public MoveWindow(TimeSpan window, decimal up, decimal down)
        {
            _width = Math.Max(1, window.Ticks / Steps);
            _up = up;
            _down = down;
            Array.Fill(_step, long.MinValue);
        }

        /// <summary>Steps that hold samples, the current one included.</summary>
        public int Length
        {
            get
            {
                var n = _low <= _high ? 1 : 0;
                foreach (var step in _step)
                    if (step != long.MinValue && step >= _current - Steps && step < _current) n++;
                return n;
            }
        }

        public void Clear()
        {
            Array.Fill(_step, long.MinValue);
            _current = long.MinValue;
            _currentEnd = long.MinValue;
            _low = _pastLow = _upper = decimal.MaxValue;
            _high = _pastHigh = _lower = decimal.MinValue;
        }

        /// <summary>True when <paramref name="price"/> is beyond a trip level; otherwise it joins the window.</summary>
        public bool Trips(long ticks, decimal price)
        {
            if (ticks >= _currentEnd) Roll(ticks / _width);
            if (price > _upper || price < _lower) return true;
            if (price < _low)
            {
                _low = price;
                if (price < _pastLow) _upper = price * _up;
            }

            if (price > _high)
            {
                _high = price;
                if (price > _pastHigh) _lower = price * _down;
            }

            return false;
        }

        /// <summary>A new step begins: the one that ends is kept; what is older than the window leaves.</summary>
        private void Roll(long step)
        {
            if (_current != long.MinValue && _low <= _high)
            {
                var slot = (int)(_current % Steps);
                _step[slot] = _current;
                _lows[slot] = _low;
                _highs[slot] = _high;
            }

            _current = step;
            _currentEnd = (step + 1) * _width;
            _low = decimal.MaxValue;
            _high = decimal.MinValue;
            _pastLow = decimal.MaxValue;
            _pastHigh = decimal.MinValue;
            for (var i = 0; i < Steps; i++)
            {
                if (_step[i] == long.MinValue || _step[i] < step - Steps) continue;
                if (_lows[i] < _pastLow) _pastLow = _lows[i];
                if (_highs[i] > _pastHigh) _pastHigh = _highs[i];
            }

            _upper = _pastLow == decimal.MaxValue ? decimal.MaxValue : _pastLow * _up;
            _lower = _pastHigh == decimal.MinValue ? decimal.MinValue : _pastHigh * _down;
        }
    }
}
