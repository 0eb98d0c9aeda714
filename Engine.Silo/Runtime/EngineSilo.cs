using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text.Json;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Grains.Instruments;
using Engine.Grains.Orders;
using Engine.Grains.Risk;
using Engine.Silo.History;
using Engine.Silo.Persistence;
using Engine.Silo.Persistence.Postgres;
using Engine.Silo.Plans;
using Engine.Silo.Pricing;
using Engine.Silo.Telemetry;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Engine.Silo.Runtime;

/// <summary>
/// One engine node: its shards, the price service that feeds them, the optional simulated feed and
/// the timers. Commands and queries are routed to the shard that owns the account.
/// </summary>
public sealed class EngineSilo : IAsyncDisposable
{
    private readonly ShardHost[] _shards;
    private readonly IJournalStore _store;
    private readonly ITimer _clock;
    private readonly SimulatedFeed? _feed;
    private readonly FileStream? _lock;
    private readonly ILogger _log;
    private readonly IDisposable _mailboxGauge;
    private PlanScheduler? _plans;
    private int _disposed;

    /// <summary>The engine's PostgreSQL database (schema migrated), or null when it runs on the file store.</summary>
    public NpgsqlDataSource? Database { get; private init; }

    /// <summary>The history read model (fills, finished orders) in PostgreSQL, or null on the file store.</summary>
    public HistoryReader? History { get; private set; }

    private HistoryProjector? _history;

    private EngineSilo(ShardHost[] shards, IJournalStore store, PriceService prices, AccountDirectory directory, AccountEventHub hub,
        InstrumentCatalog instruments, EngineOptions options, TimeProvider time, string operatorKey, FileStream? dataLock, ILogger log, Copy.CopyFanOut fanOut)
    {
        _shards = shards;
        FanOut = fanOut;
        Copy = new Copy.CopyService(this, log);
        _store = store;
        Prices = prices;
        Directory = directory;
        Events = hub;
        Instruments = instruments;
        Options = options;
        OperatorKey = operatorKey;
        _lock = dataLock;
        _log = log;
        _mailboxGauge = EngineTelemetry.ObserveMailboxes(() => _shards.Select(s =>
            new Measurement<int>(s.MailboxDepth, new KeyValuePair<string, object?>("shard", s.Index))));
        _clock = time.CreateTimer(_ => Tick(), null, options.TimerInterval, options.TimerInterval);
        if (options.SimulatedFeed.Enabled) _feed = new SimulatedFeed(instruments, options.SimulatedFeed, prices, time);
    }

    public PriceService Prices { get; }
    public AccountDirectory Directory { get; }
    public AccountEventHub Events { get; }
    public InstrumentCatalog Instruments { get; }
    public EngineOptions Options { get; }
    public string OperatorKey { get; }
    public int ShardCount => _shards.Length;

    /// <summary>Copy trading's cross-shard steps.</summary>
    public Copy.CopyService Copy { get; }

    /// <summary>Copy signal delivery between shards (its completion event measures fan-out).</summary>
    public Copy.CopyFanOut FanOut { get; }

    /// <summary>
    /// Whether the store answers now: PostgreSQL runs a trivial query within two seconds; the file store is the
    /// data folder this process holds locked, and its failures show as a faulted shard instead.
    /// </summary>
    public async Task<bool> StoreAnswersAsync(CancellationToken ct)
    {
        if (Database is null) return true;
        if (await PingAsync(ct)) return true;
        // Idle pooled connections die with a restarted server and fail once each: the truth is what a fresh one says.
        Database.Clear();
        return await PingAsync(ct);
    }

    private async Task<bool> PingAsync(CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await using var command = Database!.CreateCommand("SELECT 1");
            return await command.ExecuteScalarAsync(timeout.Token) is 1;
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or OperationCanceledException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>True while every shard can journal (false from a failed append until the shard has rebuilt itself from the store).</summary>
    public bool Healthy => _shards.All(s => !s.Faulted);

    /// <summary>
    /// Opens the store (the PostgreSQL database when <see cref="EngineOptions.ConnectionString"/> is set, else the
    /// data folder), recovers every shard (snapshot plus journal), and starts the loops,
    /// the timers, (when configured) the simulated feed, and the plans' scheduler.
    /// </summary>
    public static async Task<EngineSilo> StartAsync(EngineOptions options, TimeProvider time, ILoggerFactory loggers,
        InstrumentCatalog? instruments = null, IJournalStore? store = null, CancellationToken ct = default)
    {
        var log = loggers.CreateLogger("Engine.Silo");
        instruments ??= InstrumentCatalog.Default;
        FileStream? dataLock = null;
        NpgsqlDataSource? database = null;
        try
        {
            if (options.Shards < 1 || options.Shards > 256) throw new InvalidOperationException("Engine:Shards must be 1 to 256");
            CheckRiskOptions(options);
            string operatorKey;
            byte[] secret;
            if (!string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                // Everything lives in the database, settings included, so nodes on one database agree on them.
                database = await EngineDatabase.OpenAsync(options.ConnectionString, ct);
                var target = new NpgsqlConnectionStringBuilder(options.ConnectionString);
                log.LogInformation("PostgreSQL database {Database} on {Host} opened; schema up to date", target.Database, target.Host);
                await CheckShardCountAsync(database, options.Shards, ct);
                operatorKey = await OperatorKeyOfAsync(options, database, log, ct);
                secret = Convert.FromHexString(await EngineDatabase.GetOrAddSettingAsync(database, SecretSetting,
                    Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), ct));
                store ??= new PostgresJournalStore(database);
            }
            else
            {
                var data = Path.GetFullPath(options.DataDirectory);
                System.IO.Directory.CreateDirectory(data);
                dataLock = AcquireLock(data);
                CheckShardCount(data, options.Shards);
                operatorKey = OperatorKeyOf(options, data, log);
                secret = SecretOf(data);
                store ??= new FileJournalStore(data, line => log.LogWarning("{Line}", line));
            }

            var directory = new AccountDirectory(secret);
            var hub = new AccountEventHub();
            var venue = new PaperVenue(options.Slippage);
            var shardOptions = options.ToShardOptions();
            PlanScheduler? plans = null;
            HistoryProjector? history = null;

            void Publish(IReadOnlyList<SequencedEvent> events)
            {
                foreach (var e in events)
                {
                    if (e.Event is AccountOpened opened) directory.Add(opened.ApiKeyHash, e.Event.Account);
                    else if (e.Event is PlanEvent plan) plans?.Changed(plan.Account, plan.Plan);
                }

                hub.Publish(events);
                history?.Wake();
            }

            PriceService? priceService = null;
            var fanOut = new Copy.CopyFanOut(options.Copy);

            // After a shard rebuilt itself from the store in place (on its loop, before it takes more work): what the
            // rest of the node derived from its events catches up with the rebuilt state. A batch whose commit
            // answer was lost may turn out durable: its accounts and plans were never published.
            void RegisterAccounts(ShardHost shard)
            {
                foreach (var account in shard.Grains.Accounts.Values) directory.Add(account.ApiKeyHash, account.Id);
            }

            void Recovered(ShardHost shard)
            {
                RegisterAccounts(shard);
                foreach (var plan in shard.Grains.Plans) plans?.Changed(plan.Account, plan.Id);
                // Copy signals whose delivery failed while the shard was down (to it, or from its outbox) go again;
                // followers drop what they already have. Not awaited: the queries run on this very loop.
                _ = fanOut.RedeliverAsync();
                // A halt broadcast while the shard was down failed there: the node's halts are told again.
                if (priceService is null) return;
                foreach (var instrument in instruments.All)
                    if (priceService.TryGetHalt(instrument.Symbol, out var halt) && halt is not null && HaltDiffers(shard, instrument.Symbol, halt))
                        _ = shard.HaltAsync(instrument.Symbol, halt, "");
            }

            var shards = new ShardHost[options.Shards];
            var recoveries = Enumerable.Range(0, options.Shards).Select(async i =>
                shards[i] = await ShardHost.RecoverAsync(i, store,
                    snapshot => snapshot is null ? new ShardGrains(instruments, venue, shardOptions) : ShardGrains.Restore(snapshot, instruments, venue, shardOptions),
                    options, time,
                    log, Publish, ct, Recovered, fanOut));
            await Task.WhenAll(recoveries);
            fanOut.Attach(shards);
            // Signals a crash left undelivered go first, ahead of anything new.
            await fanOut.RedeliverAsync();
            foreach (var shard in shards) RegisterAccounts(shard);

            Task BroadcastHalt(string symbol, SymbolHalt? halt, string resumeReason) =>
                Task.WhenAll(shards.Select(shard => shard.HaltAsync(symbol, halt, resumeReason)));

            var prices = new PriceService(instruments, options.ToPriceIndexSettings(), time, (symbol, quote) =>
            {
                foreach (var shard in shards) shard.Post(new PriceWork(symbol, quote));
            }, options.ToCircuitBreakerSettings(), BroadcastHalt);
            priceService = prices;
            await RestoreHaltsAsync(shards, prices, log);
            var silo = new EngineSilo(shards, store, prices, directory, hub, instruments, options, time, operatorKey, dataLock, log, fanOut) { Database = database };
            try
            {
                await silo.Copy.ReconcileAsync();
                if (database is not null && options.History.ReadModel)
                {
                    silo._history = history = await HistoryProjector.StartAsync(database, options.Shards, log, ct);
                    silo.History = new HistoryReader(database);
                }

                silo._plans = plans = new PlanScheduler(silo, time, loggers);
                await plans.StartAsync(ct);
            }
            catch
            {
                await silo.DisposeAsync();
                throw;
            }

            return silo;
        }
        catch
        {
            if (database is not null) await database.DisposeAsync();
            if (dataLock is not null) await dataLock.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Every shard journals every halt, but a crash can come between two shards' commits: a symbol halted
    /// in any shard is halted (the newest halt wins), and the shards that differ are told so before the
    /// engine serves anything. A halt that should have ended meanwhile ends on the first timer tick.
    /// </summary>
    private static async Task RestoreHaltsAsync(ShardHost[] shards, PriceService prices, ILogger log)
    {
        // The loops run but nothing has been posted to them yet: reading their state here is safe.
        var merged = new Dictionary<string, SymbolHalt>(StringComparer.Ordinal);
        foreach (var shard in shards)
            foreach (var (symbol, halt) in shard.Grains.Halts)
                if (!merged.TryGetValue(symbol, out var seen) || halt.Since > seen.Since)
                    merged[symbol] = halt;
        if (merged.Count == 0) return;
        prices.Restore(merged);
        var fixes = new List<Task>();
        foreach (var shard in shards)
            foreach (var (symbol, halt) in merged)
                if (HaltDiffers(shard, symbol, halt))
                    fixes.Add(shard.HaltAsync(symbol, halt, ""));

        await Task.WhenAll(fixes);
        log.LogWarning("recovered halted symbols: {Halts}", string.Join(", ", merged.Select(h => $"{h.Key} ({h.Value.Reason})")));
    }

    /// <summary>Whether the shard's own state of a symbol's halt differs from the node's (read on the shard's loop, or before it runs).</summary>
    private static bool HaltDiffers(ShardHost shard, string symbol, SymbolHalt halt) =>
        !shard.Grains.Halts.TryGetValue(symbol, out var own) || own.Reason != halt.Reason || own.Until != halt.Until;

    /// <summary>Runs a command on its account's shard; completes once its events are durable.</summary>
    public Task<CommandOutcome> SendAsync(CommandEnvelope envelope)
    {
        var work = new CommandWork(envelope);
        var shard = ShardFor(envelope.Command.Account);
        if (!EngineTelemetry.Source.HasListeners())
        {
            shard.Post(work);
            return work.Task;
        }

        return TracedAsync(work, shard, envelope.Command);
    }

    /// <summary>A command as a span: from its arrival at the silo until it is durable (or refused).</summary>
    private static async Task<CommandOutcome> TracedAsync(CommandWork work, ShardHost shard, Command command)
    {
        using var activity = EngineTelemetry.Source.StartActivity(command.GetType().Name);
        activity?.SetTag("engine.shard", shard.Index);
        shard.Post(work);
        try
        {
            var outcome = await work.Task;
            if (outcome.Result.Rejection is { } rejection) activity?.SetTag("engine.rejection", rejection.Code);
            return outcome;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    /// <summary>Reads an account's shard state on its loop (after everything queued before it is committed).</summary>
    public Task<T> QueryAsync<T>(AccountId account, Func<ShardGrains, T> query) => ShardFor(account).QueryAsync(query);

    /// <summary>Reads every shard and combines the answers (for operator and benchmark views).</summary>
    public Task<T[]> QueryAllAsync<T>(Func<ShardGrains, T> query) => Task.WhenAll(_shards.Select(s => s.QueryAsync(query)));

    /// <summary>Snapshots every shard now.</summary>
    public Task SnapshotAllAsync() => Task.WhenAll(_shards.Select(s => s.SnapshotNowAsync()));

    /// <summary>
    /// Waits until the history read model holds everything the account's shard has made durable so far: a read
    /// after an acknowledged command sees that command's fills and orders.
    /// </summary>
    public async Task CatchUpHistoryAsync(AccountId account, CancellationToken ct)
    {
        if (_history is null) return;
        var shard = ShardFor(account);
        try
        {
            await _history.WaitForAsync(shard.Index, shard.DurableSequence, ct).WaitAsync(HistoryLagLimit, ct);
        }
        catch (TimeoutException ex)
        {
            throw new StoreUnavailableException("the history read model is behind the journal (is PostgreSQL reachable?)", ex);
        }
    }

    /// <summary>How long a history read waits for the read model to catch up before it answers 503.</summary>
    private static readonly TimeSpan HistoryLagLimit = TimeSpan.FromSeconds(10);

    public int ShardOf(AccountId account) => ShardRouter.ShardOf(account, _shards.Length);

    private ShardHost ShardFor(AccountId account) => _shards[ShardOf(account)];

    private void Tick()
    {
        try
        {
            Prices.Refresh();
            foreach (var shard in _shards) shard.Post(TimeWork.Instance);
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "engine timer failed");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _mailboxGauge.Dispose();
        // Steps in flight send commands: the scheduler stops while the shards still run.
        if (_plans is not null) await _plans.DisposeAsync();
        _feed?.Dispose();
        await _clock.DisposeAsync();
        foreach (var shard in _shards) await shard.DisposeAsync();
        await _store.DisposeAsync();
        if (_history is not null) await _history.DisposeAsync();
        if (Database is not null) await Database.DisposeAsync();
        if (_lock is not null) await _lock.DisposeAsync();
    }

    private static FileStream AcquireLock(string data)
    {
        try
        {
            return new FileStream(Path.Combine(data, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"the data folder {data} is in use by another engine process", ex);
        }
    }

    private static void CheckRiskOptions(EngineOptions options)
    {
        if (options.PriceBand.Fraction is < 0m or >= 1m) throw new InvalidOperationException("Engine:PriceBand:Fraction must be 0 (off) or a fraction below 1");
        var b = options.CircuitBreaker;
        if (b.MaxMove is < 0m or >= 1m) throw new InvalidOperationException("Engine:CircuitBreaker:MaxMove must be 0 (off) or a fraction below 1");
        if (b.Enabled && b.MaxMove > 0m && (b.WindowSeconds <= 0 || b.PauseSeconds <= 0))
            throw new InvalidOperationException("Engine:CircuitBreaker:WindowSeconds and PauseSeconds must be greater than 0");
    }

    private const string ShardsSetting = "shards";
    private const string SecretSetting = "account_keys_secret";
    private const string OperatorKeySetting = "operator_key";

    private static async Task CheckShardCountAsync(NpgsqlDataSource database, int shards, CancellationToken ct)
    {
        var stored = int.Parse(await EngineDatabase.GetOrAddSettingAsync(database, ShardsSetting, shards.ToString(System.Globalization.CultureInfo.InvariantCulture), ct),
            System.Globalization.CultureInfo.InvariantCulture);
        if (stored != shards)
            throw new InvalidOperationException($"the database was created with {stored} shards; Engine:Shards is {shards}. Accounts are routed by shard count, so it cannot change.");
    }

    private static async Task<string> OperatorKeyOfAsync(EngineOptions options, NpgsqlDataSource database, ILogger log, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(options.OperatorApiKey)) return options.OperatorApiKey;
        var proposed = "op_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var key = await EngineDatabase.GetOrAddSettingAsync(database, OperatorKeySetting, proposed, ct);
        if (key == proposed) log.LogWarning("generated the operator API key (stored in the database, engine_meta; shown once): {Key}", key);
        return key;
    }

    private static void CheckShardCount(string data, int shards)
    {
        var path = Path.Combine(data, "engine.json");
        if (File.Exists(path))
        {
            var stored = JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("shards").GetInt32();
            if (stored != shards)
                throw new InvalidOperationException($"the data folder was created with {stored} shards; Engine:Shards is {shards}. Accounts are routed by shard count, so it cannot change.");
            return;
        }

        WriteDurably(path, JsonSerializer.Serialize(new { shards }));
    }

    /// <summary>Temp file, fsync, rename, directory fsync: after a power cut the file is whole or absent.</summary>
    private static void WriteDurably(string path, string content)
    {
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(content));
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        DirectorySync.Flush(Path.GetDirectoryName(path)!);
    }

    /// <summary>The data folder's secret for deriving account keys: generated once, never logged.</summary>
    private static byte[] SecretOf(string data)
    {
        var path = Path.Combine(data, "account-keys.secret");
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: 64 } stored) return Convert.FromHexString(stored);
        var secret = RandomNumberGenerator.GetBytes(32);
        WriteDurably(path, Convert.ToHexStringLower(secret));
        return secret;
    }

    private static string OperatorKeyOf(EngineOptions options, string data, ILogger log)
    {
        if (!string.IsNullOrWhiteSpace(options.OperatorApiKey)) return options.OperatorApiKey;
        var path = Path.Combine(data, "operator.key");
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } stored) return stored;
        var key = "op_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        WriteDurably(path, key);
        log.LogWarning("generated the operator API key (stored in {Path}; shown once): {Key}", path, key);
        return key;
    }
}
