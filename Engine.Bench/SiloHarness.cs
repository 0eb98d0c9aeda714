using System.Collections.Concurrent;
using System.Diagnostics;
using Engine.Grains;
using Engine.Grains.Pricing;
using Engine.Silo;
using Engine.Silo.Persistence;
using Engine.Silo.Runtime;
using Microsoft.Extensions.Logging;

namespace Engine.Bench;

/// <summary>
/// A real <see cref="EngineSilo"/> over the file journal in a temporary data folder, or over PostgreSQL when the
/// options carry a connection string (a database of the bench's throwaway server).
/// </summary>
internal sealed class SiloHarness : IAsyncDisposable
{
    public const string OperatorKey = "bench-operator-key";
    public const string Source = "bench";

    private readonly ILoggerFactory _loggers;

    private SiloHarness(EngineSilo silo, string directory, LogCollector logs, ILoggerFactory loggers, MeteredJournalStore journal)
    {
        Silo = silo;
        Journal = journal;
        Directory = directory;
        Logs = logs;
        _loggers = loggers;
    }

    public EngineSilo Silo { get; }
    public MeteredJournalStore Journal { get; }
    public string Directory { get; }
    public LogCollector Logs { get; }

    public static EngineOptions Options(string directory, int shards, long snapshotEvery) => new()
    {
        DataDirectory = directory,
        Shards = shards,
        OperatorApiKey = OperatorKey,
        SnapshotEveryEvents = snapshotEvery,
        SimulatedFeed = new SimulatedFeedOptions { Enabled = false },
    };

    public static async Task<SiloHarness> StartAsync(EngineOptions options, bool verbose)
    {
        var logs = new LogCollector(verbose);
        var loggers = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        // The engine's own store (as EngineSilo would create it), with counters around it.
        IJournalStore store = options.ConnectionString is { } connectionString
            ? await Engine.Silo.Persistence.Postgres.PostgresJournalStore.OpenAsync(connectionString)
            : new FileJournalStore(Path.GetFullPath(options.DataDirectory), line => logs.Warn(line));
        var journal = new MeteredJournalStore(store);
        var silo = await EngineSilo.StartAsync(options, TimeProvider.System, loggers, store: journal);
        return new SiloHarness(silo, options.DataDirectory, logs, loggers, journal);
    }

    public static string NewDirectory(BenchArgs a, string name)
    {
        var dir = Path.Combine(a.DataRoot, $"engine-bench-{name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(dir);
        return dir;
    }

    public static void DeleteDirectory(BenchArgs a, string dir)
    {
        if (a.KeepData)
        {
            Console.WriteLine($"  (kept data folder {dir})");
            return;
        }

        try
        {
            System.IO.Directory.Delete(dir, recursive: true);
        }
        catch (Exception ex)
        {
            Console.WriteLine($"  (could not delete {dir}: {ex.Message})");
        }
    }

    /// <summary>Opens and funds the bench accounts through SendAsync.</summary>
    public Task OpenAccountsAsync(int accounts, int concurrency = 256)
    {
        var commands = ShardSetup.AccountCommands(accounts).ToArray();
        // Each account's three commands must run in order: one worker per account, so group by account.
        return RunConcurrentAsync(accounts, concurrency, async i =>
        {
            for (var k = 0; k < 3; k++) await MustAsync(commands[(i * 3) + k]);
        });
    }

    /// <summary>One tick per symbol at its start price, then waits until every shard has it.</summary>
    public async Task PrimePricesAsync()
    {
        var now = TimeProvider.System.GetUtcNow();
        var ticks = Enumerable.Range(0, Market.Count).Select(s => new PriceTick(Source, Market.Symbols[s], Market.StartPrices[s], now)).ToArray();
        Silo.Prices.Ingest(ticks);
        await DrainAsync();
    }

    /// <summary>Completes when every shard has committed everything posted before.</summary>
    public Task DrainAsync() => Silo.QueryAllAsync(_ => 0);

    /// <summary>Places the orders through SendAsync with <paramref name="concurrency"/> in flight.</summary>
    public async Task<TimeSpan> PlaceAsync(GeneratedOrder[] orders, int accounts, int concurrency)
    {
        var ids = ShardSetup.AccountIds(accounts);
        var watch = Stopwatch.StartNew();
        await RunConcurrentAsync(orders.Length, concurrency, i => MustAsync(ShardSetup.Command(orders[i], ids)));
        return watch.Elapsed;
    }

    public async Task MustAsync(Command command)
    {
        var outcome = await Silo.SendAsync(new CommandEnvelope(command));
        if (!outcome.Result.Succeeded)
            throw new InvalidOperationException($"{command.GetType().Name} rejected: {outcome.Result.Rejection}");
    }

    /// <summary>Runs <paramref name="op"/> for 0..count-1 with at most <paramref name="concurrency"/> at once.</summary>
    public static async Task RunConcurrentAsync(int count, int concurrency, Func<int, Task> op)
    {
        var next = -1;
        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count) await op(i);
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, Math.Max(1, count))).Select(_ => Task.Run(Worker)));
    }

    public async ValueTask DisposeAsync()
    {
        await Silo.DisposeAsync();
        _loggers.Dispose();
    }
}

/// <summary>Keeps the engine's log lines (recovery and snapshot timings) and prints them when verbose.</summary>
internal sealed class LogCollector(bool verbose) : ILoggerProvider, ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var line = $"{logLevel}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}";
        _lines.Enqueue(line);
        if (verbose || logLevel >= LogLevel.Warning) Console.WriteLine("  [engine] " + line);
    }

    public void Warn(string line) => Log(LogLevel.Warning, default, line, null, (l, _) => l);

    public void Dispose()
    {
    }
}
