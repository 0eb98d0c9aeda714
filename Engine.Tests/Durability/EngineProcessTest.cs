using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit.Abstractions;

namespace Engine.Tests.Durability;

/// <summary>
/// What the tests that run the real engine process share: a data folder of their own, the engines
/// started on it (stopped and deleted at the end) and their output, timestamped, shown with the test.
/// </summary>
public abstract class EngineProcessTest(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _log = new();
    private readonly List<EngineProcess> _engines = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    protected string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "engine-durability-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Environment every engine of the test gets on top of its own (a store other than the data folder).</summary>
    protected virtual IReadOnlyDictionary<string, string> StoreEnvironment { get; } = new Dictionary<string, string>();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var engine in _engines) await engine.DisposeAsync();
        try
        {
            foreach (var line in _log) output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // No active test to write to.
        }

        try
        {
            if (Directory.Exists(DataDirectory)) Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder.
        }
    }

    /// <summary>Starts the engine on the test's data folder; its output goes to the test's log as run N.</summary>
    private protected async Task<EngineProcess> StartEngineAsync(int shards, IReadOnlyDictionary<string, string>? environment = null)
    {
        var run = _engines.Count + 1;
        var merged = new Dictionary<string, string>(StoreEnvironment);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) merged[name] = value;
        var engine = await EngineProcess.StartAsync(DataDirectory, shards, line => Log($"[run {run}] {line}"), merged);
        _engines.Add(engine);
        return engine;
    }

    protected void Log(string line) => _log.Enqueue($"{_clock.Elapsed.TotalSeconds,7:F2}s {line}");
}
