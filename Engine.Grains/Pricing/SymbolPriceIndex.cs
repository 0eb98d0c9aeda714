namespace Engine.Grains.Pricing;

/// <summary>
/// Last, index and mark of one symbol, derived from the latest tick of each of its sources.
/// Single-writer: the caller serializes access.
/// </summary>
/// <remarks>
/// <para><c>last</c> is the price of the newest accepted tick from any source, by arrival.</para>
/// <para><c>index</c> is the median of the fresh sources after dropping those further than
/// <see cref="PriceIndexSettings.OutlierDistance"/> from the median of all fresh sources. With fewer
/// than <see cref="PriceIndexSettings.MinSources"/> left it is flagged degraded but still follows what
/// is left; with nothing left it keeps its previous value.</para>
/// <para><c>mark</c> is the time-weighted mean of the index over the last
/// <see cref="PriceIndexSettings.MarkWindow"/>: time-weighted so that a burst of ticks does not
/// outweigh a quiet stretch. Until the index has held any value for a non-zero time, mark equals index.</para>
/// </remarks>
public sealed class SymbolPriceIndex
{
    // Index changes closer together than MarkWindow / MarkResolution are folded into one averaged
    // stretch. That bounds the mark history to about 2 × MarkResolution entries whatever the tick rate,
    // and the only approximation (cutting a folded stretch at the window's edge) weighs at most
    // 1 / MarkResolution of the window.
    private const int MarkResolution = 64;

    // Sources per symbol are few; above this the scratch buffer moves to the heap rather than the stack.
    private const int StackBufferLimit = 32;

    private readonly PriceIndexSettings _settings;
    private readonly long _markWindowTicks;
    private readonly long _markSpacingTicks;

    // Kept sorted by name so snapshots list sources in a stable order.
    private SourceState[] _sources = new SourceState[4];
    private int _sourceCount;
    private DateTimeOffset? _lastTimestamp;

    // The index is a step function of time. Closed stretches wait in the queue with their
    // value × duration pre-summed; the open stretch runs from _openStart and is made of the already
    // folded part [_openStart, _since) worth _openSum, then the current value from _since on.
    private readonly Queue<MarkStretch> _closed = new();
    private decimal _closedSum;
    private long _closedDuration;
    private bool _markStarted;
    private long _openStart;
    private decimal _openSum;
    private long _since;
    private decimal _value;

    public SymbolPriceIndex(string symbol, PriceIndexSettings settings)
    {
        ArgumentException.ThrowIfNullOrEmpty(symbol);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(settings.Staleness, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegative(settings.OutlierDistance);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MinSources, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MarkWindow, TimeSpan.Zero);

        Symbol = symbol;
        _settings = settings;
        _markWindowTicks = settings.MarkWindow.Ticks;
        _markSpacingTicks = Math.Max(1, _markWindowTicks / MarkResolution);
    }

    public string Symbol { get; }

    public decimal? Last { get; private set; }

    public decimal? Index { get; private set; }

    public decimal? Mark { get; private set; }

    /// <summary>True while fewer than <see cref="PriceIndexSettings.MinSources"/> fresh, non-outlier
    /// sources back the index, including before the first tick.</summary>
    public bool Degraded { get; private set; } = true;

    /// <summary>Number of closed mark stretches held; exposed so tests can check memory stays bounded.</summary>
    internal int MarkHistoryLength => _closed.Count;

    /// <summary>
    /// Applies one tick and recomputes at <paramref name="now"/>. Returns true when last, index, mark
    /// or the degraded flag changed. A tick older than its source's previous tick is ignored, since
    /// accepting it would roll that source back in time.
    /// </summary>
    /// <exception cref="ArgumentException">The tick is for another symbol, has no source, or its price
    /// is not positive.</exception>
    public bool Apply(PriceTick tick, DateTimeOffset now)
    {
        if (!string.Equals(tick.Symbol, Symbol, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Tick for '{tick.Symbol}' applied to the index of '{Symbol}'.", nameof(tick));
        }

        ArgumentException.ThrowIfNullOrEmpty(tick.Source, nameof(tick));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tick.Price, nameof(tick));

        var previousLast = Last;
        var at = FindSource(tick.Source);
        if (at < 0)
        {
            InsertSource(~at, tick);
        }
        else if (tick.Timestamp < _sources[at].Timestamp)
        {
            return Recompute(now, lastChanged: false);
        }
        else
        {
            _sources[at].Price = tick.Price;
            _sources[at].Timestamp = tick.Timestamp;
        }

        Last = tick.Price;
        _lastTimestamp = tick.Timestamp;
        return Recompute(now, lastChanged: previousLast != Last);
    }

    /// <summary>
    /// Re-evaluates at <paramref name="now"/> without a new tick: sources go stale and the mark window
    /// slides. Returns true when index, mark or the degraded flag changed.
    /// </summary>
    public bool Refresh(DateTimeOffset now) => Recompute(now, lastChanged: false);

    /// <summary>The state as of the last <see cref="Apply"/> or <see cref="Refresh"/>.</summary>
    public SymbolPrices Snapshot()
    {
        var quotes = new SourceQuote[_sourceCount];
        for (var i = 0; i < _sourceCount; i++)
        {
            ref readonly var s = ref _sources[i];
            quotes[i] = new SourceQuote(s.Name, s.Price, s.Timestamp, s.Included);
        }

        return new SymbolPrices(Symbol, Last, Index, Mark, Degraded, _lastTimestamp, quotes);
    }

    private bool Recompute(DateTimeOffset now, bool lastChanged)
    {
        var previousIndex = Index;
        var previousMark = Mark;
        var previousDegraded = Degraded;

        RecomputeIndex(now);
        RecomputeMark(now.UtcTicks);

        return lastChanged || previousIndex != Index || previousMark != Mark || previousDegraded != Degraded;
    }

    private void RecomputeIndex(DateTimeOffset now)
    {
        var count = _sourceCount;
        Span<decimal> buffer = count <= StackBufferLimit ? stackalloc decimal[count] : new decimal[count];

        var freshCount = 0;
        for (var i = 0; i < count; i++)
        {
            if (IsFresh(_sources[i], now))
            {
                buffer[freshCount++] = _sources[i].Price;
            }
        }

        var fresh = buffer[..freshCount];
        fresh.Sort();

        var kept = 0;
        if (freshCount > 0)
        {
            var center = Median(fresh);
            var tolerance = center * _settings.OutlierDistance;

            // Distance from the center grows towards both ends of the sorted prices, so the survivors
            // are one contiguous run.
            var low = 0;
            var high = freshCount;
            while (low < high && center - fresh[low] > tolerance)
            {
                low++;
            }

            while (high > low && fresh[high - 1] - center > tolerance)
            {
                high--;
            }

            kept = high - low;
            if (kept > 0)
            {
                Index = Median(fresh[low..high]);
            }

            for (var i = 0; i < count; i++)
            {
                ref var s = ref _sources[i];
                s.Included = IsFresh(s, now) && Math.Abs(s.Price - center) <= tolerance;
            }
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                _sources[i].Included = false;
            }
        }

        Degraded = kept < _settings.MinSources;
    }

    private bool IsFresh(in SourceState source, DateTimeOffset now) => now - source.Timestamp <= _settings.Staleness;

    private static decimal Median(ReadOnlySpan<decimal> sorted)
    {
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2m;
    }

    private void RecomputeMark(long nowTicks)
    {
        if (Index is not decimal index)
        {
            return;
        }

        if (_markWindowTicks == 0)
        {
            Mark = index;
            return;
        }

        // A clock that steps back is treated as standing still, so no stretch gets a negative duration.
        var at = _markStarted ? Math.Max(nowTicks, _since) : nowTicks;
        RecordIndex(index, at);
        Mark = MarkAt(at);
    }

    private void RecordIndex(decimal index, long at)
    {
        if (!_markStarted)
        {
            _markStarted = true;
            _openStart = at;
            _since = at;
            _openSum = 0m;
            _value = index;
            return;
        }

        if (index == _value)
        {
            return;
        }

        if (at - _openStart < _markSpacingTicks)
        {
            _openSum += _value * (at - _since);
        }
        else
        {
            // The folded part is kept apart from the current value's run so that only stretches
            // shorter than the spacing are ever averaged.
            if (_since > _openStart)
            {
                Close(_openStart, _since, _openSum, _openSum / (_since - _openStart));
            }

            Close(_since, at, _value * (at - _since), _value);
            _openStart = at;
            _openSum = 0m;
        }

        _since = at;
        _value = index;
    }

    private void Close(long start, long end, decimal weightedSum, decimal mean)
    {
        if (end <= start)
        {
            return;
        }

        _closed.Enqueue(new MarkStretch(start, end, weightedSum, mean));
        _closedSum += weightedSum;
        _closedDuration += end - start;
    }

    private decimal MarkAt(long now)
    {
        var windowStart = now - _markWindowTicks;

        while (_closed.TryPeek(out var oldest) && oldest.End <= windowStart)
        {
            _closed.Dequeue();
            _closedSum -= oldest.WeightedSum;
            _closedDuration -= oldest.Duration;
        }

        if (_closed.Count == 0)
        {
            // Resetting clears any rounding left by the subtractions, and trimming the open stretch
            // to the window keeps its weighted sum from growing without bound during a long calm.
            _closedSum = 0m;
            _closedDuration = 0;
            TrimOpenStretch(windowStart);
        }

        var weighted = _closedSum + _openSum + (_value * (now - _since));
        var duration = _closedDuration + (now - _openStart);

        if (_closed.TryPeek(out var first) && first.Start < windowStart)
        {
            var cut = windowStart - first.Start;
            weighted -= first.Mean * cut;
            duration -= cut;
        }

        return duration > 0 ? weighted / duration : _value;
    }

    private void TrimOpenStretch(long windowStart)
    {
        if (_openStart >= windowStart)
        {
            return;
        }

        if (_since <= windowStart)
        {
            _openStart = windowStart;
            _since = windowStart;
            _openSum = 0m;
        }
        else
        {
            _openSum -= _openSum / (_since - _openStart) * (windowStart - _openStart);
            _openStart = windowStart;
        }
    }

    private int FindSource(string name)
    {
        var low = 0;
        var high = _sourceCount - 1;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            var order = string.CompareOrdinal(_sources[middle].Name, name);
            if (order == 0)
            {
                return middle;
            }

            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return ~low;
    }

    private void InsertSource(int position, PriceTick tick)
    {
        if (_sourceCount == _sources.Length)
        {
            Array.Resize(ref _sources, _sources.Length * 2);
        }

        Array.Copy(_sources, position, _sources, position + 1, _sourceCount - position);
        _sources[position] = new SourceState { Name = tick.Source, Price = tick.Price, Timestamp = tick.Timestamp };
        _sourceCount++;
    }

    private struct SourceState
    {
        public string Name;
        public decimal Price;
        public DateTimeOffset Timestamp;
        public bool Included;
    }

    // Mean is computed once when the stretch closes, because cutting the stretch at the window's edge
    // happens on nearly every tick and a decimal division is the costliest step here.
    private readonly record struct MarkStretch(long Start, long End, decimal WeightedSum, decimal Mean)
    {
        public long Duration => End - Start;
    }
}
