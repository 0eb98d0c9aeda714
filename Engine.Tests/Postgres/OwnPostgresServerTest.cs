using Engine.Tests.Support;

namespace Engine.Tests.Postgres;

/// <summary>
/// Tests that stop and start PostgreSQL, so each class has a throwaway server of its own rather than the
/// shared one of <see cref="PostgresCollection"/>.
/// </summary>
public abstract class OwnPostgresServerTest : IAsyncLifetime
{
    private PostgresServer? _server;

    protected PostgresServer Server => _server ?? throw new InvalidOperationException("the PostgreSQL test server did not start");

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
