using Engine.Tests.Support;

namespace Engine.Tests.Postgres;

/// <summary>
/// One throwaway PostgreSQL server for every test of the <see cref="PostgresCollection"/>; each test makes
/// its own database on it. When the server cannot start, every such test fails with the reason (none skip).
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;
    private int _databases;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("the PostgreSQL test server did not start");

    /// <summary>A new empty database, named after its purpose for readable server logs.</summary>
    public Task<string> CreateDatabaseAsync(string purpose) =>
        Server.CreateDatabaseAsync($"{Sanitize(purpose)}_{Interlocked.Increment(ref _databases)}");

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private static string Sanitize(string purpose)
    {
        var name = new string(purpose.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_').ToArray());
        return name.Length > 40 ? name[..40] : name;
    }
}

/// <summary>The tests that share the throwaway server (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
