using Engine.Grains;
using Engine.Grains.Pricing;
using Engine.Grains.Risk;

namespace Engine.Silo;

/// <summary>The engine's configuration (section <c>Engine</c>).</summary>
public sealed class EngineOptions
{
    /// <summary>Where the journal, snapshots and the operator key live.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// PostgreSQL connection string, set from <c>ConnectionStrings:Engine</c> (environment
    /// <c>ConnectionStrings__Engine</c>). When set, the engine keeps its state in that database (schema
    /// migrated on start); when unset, in the embedded file store under <see cref="DataDirectory"/>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Number of shards; fixed for a data folder once it is created.</summary>
    public int Shards { get; set; } = 4;

    /// <summary>The operator's API key; when unset, generated at first start and stored in the data folder.</summary>
    public string? OperatorApiKey { get; set; }

    /// <summary>Paper venue slippage for takers, a fraction of the index (0.0005 = 5 bp).</summary>
    public decimal Slippage { get; set; } = 0.0005m;

    /// <summary>Most work items one shard batch takes before it commits.</summary>
    public int MaxBatch { get; set; } = 4096;

    /// <summary>A shard snapshots after this many journaled events (bounds recovery time).</summary>
    public long SnapshotEveryEvents { get; set; } = 500_000;

    /// <summary>How often shards check the time (GTD expiry) and prices are refreshed for staleness.</summary>
    public TimeSpan TimerInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    public SimulatedFeedOptions SimulatedFeed { get; set; } = new();

    public PriceIndexOptions PriceIndex { get; set; } = new();

    public HistoryOptions History { get; set; } = new();

    public PlanOptions Plans { get; set; } = new();

    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();

    public PriceBandOptions PriceBand { get; set; } = new();

    public CopyOptions Copy { get; set; } = new();

    public CircuitBreakerSettings ToCircuitBreakerSettings() => CircuitBreaker.Enabled
        ? new(CircuitBreaker.MaxMove, TimeSpan.FromSeconds(CircuitBreaker.WindowSeconds), TimeSpan.FromSeconds(CircuitBreaker.PauseSeconds), CircuitBreaker.HaltOnDegraded)
        : CircuitBreakerSettings.Off;

    public PriceIndexSettings ToPriceIndexSettings() => new(
        TimeSpan.FromSeconds(PriceIndex.StalenessSeconds),
        PriceIndex.OutlierDistance,
        PriceIndex.MinSources,
        TimeSpan.FromSeconds(PriceIndex.MarkWindowSeconds));

    public ShardOptions ToShardOptions() => new()
    {
        EventHistory = History.EventsPerAccount,
        FillHistory = History.FillsPerAccount,
        DoneOrderHistory = History.DoneOrdersPerAccount,
        ClientIdHistory = History.ClientIdsPerAccount,
        PlanMisfireGrace = TimeSpan.FromSeconds(Plans.MisfireGraceSeconds),
        PriceBand = PriceBand.Fraction,
        PriceBandPolicy = PriceBand.Policy,
        CopyOutcomeHistory = Copy.OutcomesPerSubscription,
    };
}

public sealed class SimulatedFeedOptions
{
    public bool Enabled { get; set; } = true;
    public int IntervalMilliseconds { get; set; } = 250;
    public int Seed { get; set; } = 7;
}

public sealed class PriceIndexOptions
{
    public double StalenessSeconds { get; set; } = 10;
    public decimal OutlierDistance { get; set; } = 0.02m;
    public int MinSources { get; set; } = 2;
    public double MarkWindowSeconds { get; set; } = 5;
}

public sealed class HistoryOptions
{
    public int EventsPerAccount { get; set; } = 1_000;
    public int FillsPerAccount { get; set; } = 1_000;
    public int DoneOrdersPerAccount { get; set; } = 1_000;
    public int ClientIdsPerAccount { get; set; } = 100_000;

    /// <summary>
    /// With PostgreSQL, whether this node feeds the history read model from the journal (and serves the history
    /// endpoints from it). Off, the endpoints answer from memory, as on the file store; the journal keeps
    /// everything, so a node that turns it on later (or a rebuild) catches up.
    /// </summary>
    public bool ReadModel { get; set; } = true;
}

public sealed class PlanOptions
{
    /// <summary>An arm step later than its moment by more than this is a misfire (skipped under the plan's <c>skip</c> policy).</summary>
    public double MisfireGraceSeconds { get; set; } = 60;
}

/// <summary>Per-symbol circuit breakers (section <c>Engine:CircuitBreaker</c>).</summary>
public sealed class CircuitBreakerOptions
{
    /// <summary>False: no automatic pauses (operators can still halt a symbol).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Trips when the index moves more than this fraction within the window (0 turns the move breaker off).</summary>
    public decimal MaxMove { get; set; } = 0.05m;

    public double WindowSeconds { get; set; } = 60;

    /// <summary>How long a price-move trip pauses triggering.</summary>
    public double PauseSeconds { get; set; } = 30;

    /// <summary>Pause while the index is degraded (after it was healthy once), until it is healthy again.</summary>
    public bool HaltOnDegraded { get; set; } = true;
}

/// <summary>Copy trading (section <c>Engine:Copy</c>).</summary>
public sealed class CopyOptions
{
    /// <summary>Outcomes each subscription keeps for reading (the newest).</summary>
    public int OutcomesPerSubscription { get; set; } = 1_000;

    /// <summary>
    /// Fault injection for recovery tests, never for production: journaled signals are not delivered to
    /// follower shards (as if the engine died right after the leader's fill). A restart without it delivers them.
    /// </summary>
    public bool HoldDeliveries { get; set; }

    /// <summary>
    /// Fault injection for recovery tests: follower outcomes are journaled but the leader never journals
    /// the acknowledgment (as if the engine died right after the followers' orders). A restart re-delivers.
    /// </summary>
    public bool HoldAcknowledgments { get; set; }
}

/// <summary>The price band for limit prices (section <c>Engine:PriceBand</c>).</summary>
public sealed class PriceBandOptions
{
    /// <summary>A buy limit at most this fraction above its reference, a sell limit at most this far below (0 turns it off).</summary>
    public decimal Fraction { get; set; } = 0.1m;

    /// <summary>reject (422 price_out_of_band) or clamp (moved to the band's edge).</summary>
    public PriceBandPolicy Policy { get; set; } = PriceBandPolicy.Reject;
}
