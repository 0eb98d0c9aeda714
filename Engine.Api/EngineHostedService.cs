using System.Data.Common;
using Engine.Silo;
using Engine.Silo.Runtime;
using Microsoft.Extensions.Options;

namespace Engine.Api;

/// <summary>
/// Runs the silo in-process. Recovery (snapshot plus journal, seconds with a million orders) runs in the
/// background while the HTTP server already listens, so an orchestrator sees the truth: <c>/health/live</c>
/// answers at once, <c>/health/ready</c> only once recovery has finished, and every other request answers
/// 503 <c>engine_starting</c> until then. A store that cannot be reached at start is retried; a configuration
/// the engine refuses stops the process.
/// </summary>
public sealed class EngineHostedService(IOptions<EngineOptions> options, TimeProvider time, ILoggerFactory loggers,
    IHostApplicationLifetime lifetime) : IHostedService
{
    private readonly TaskCompletionSource<EngineSilo> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _log = loggers.CreateLogger("Engine");
    private Task _start = Task.CompletedTask;
    private EngineSilo? _silo;

    /// <summary>The running silo; until recovery has finished, a 503 <c>engine_starting</c> for the caller.</summary>
    public EngineSilo Silo => Volatile.Read(ref _silo) ?? throw new EngineStartingException();

    public bool Started => Volatile.Read(ref _silo) is not null;

    /// <summary>Completes with the silo once it has recovered; faults when the engine cannot start.</summary>
    public Task<EngineSilo> Ready => _ready.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _start = Task.Run(RecoverAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task RecoverAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var silo = await EngineSilo.StartAsync(options.Value, time, loggers, ct: _stopping.Token);
                Volatile.Write(ref _silo, silo);
                _log.LogInformation("engine started: {Shards} shards, data in {Data}", silo.ShardCount,
                    silo.Database is null ? Path.GetFullPath(options.Value.DataDirectory) : "PostgreSQL");
                _ready.TrySetResult(silo);
                return;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                _ready.TrySetCanceled();
                return;
            }
            catch (DbException ex)
            {
                // The database is not there yet (or is restarting): not ready, and try again.
                var wait = TimeSpan.FromSeconds(Math.Min(10, attempt));
                _log.LogWarning("engine start: the store is unavailable ({Message}); retrying in {Wait} s", ex.Message, wait.TotalSeconds);
                try
                {
                    await Task.Delay(wait, time, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    _ready.TrySetCanceled();
                    return;
                }
            }
            catch (Exception ex)
            {
                _log.LogCritical(ex, "engine start failed; stopping");
                _ready.TrySetException(ex);
                Environment.ExitCode = 1;
                lifetime.StopApplication();
                return;
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _start;
        if (Interlocked.Exchange(ref _silo, null) is { } silo) await silo.DisposeAsync();
    }
}

/// <summary>A request that arrived while the engine was still recovering: 503 <c>engine_starting</c>.</summary>
public sealed class EngineStartingException() : Exception("the engine is recovering its state; retry shortly");
