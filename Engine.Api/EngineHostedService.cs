using Engine.Silo;
using Engine.Silo.Runtime;
using Microsoft.Extensions.Options;

namespace Engine.Api;

/// <summary>
/// Starts the silo in-process before the HTTP server listens (hosted services start first), so no
/// request is served before recovery has finished; stops it after the server has drained.
/// </summary>
public sealed class EngineHostedService(IOptions<EngineOptions> options, TimeProvider time, ILoggerFactory loggers) : IHostedService
{
    private EngineSilo? _silo;

    public EngineSilo Silo => _silo ?? throw new InvalidOperationException("the engine has not started");

    public bool Started => _silo is not null;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _silo = await EngineSilo.StartAsync(options.Value, time, loggers, ct: cancellationToken);
        loggers.CreateLogger("Engine").LogInformation("engine started: {Shards} shards, data in {Data}", _silo.ShardCount,
            _silo.Database is null ? Path.GetFullPath(options.Value.DataDirectory) : "PostgreSQL");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_silo is not null) await _silo.DisposeAsync();
    }
}
