using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Engine.Tests.Support;

/// <summary>
/// A throwaway PostgreSQL server for tests and benchmarks: <c>initdb</c> into a temp folder, started on a
/// free loopback port, removed when disposed. It runs the machine's own PostgreSQL binaries (Debian's
/// packages; <c>.ci/run</c> installs them). PostgreSQL refuses to run as root, so as root every binary runs
/// as the <c>postgres</c> user in a folder it owns. Durability settings stay the defaults (fsync on,
/// synchronous commit): figures measured against it are honest.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly bool IsRoot = Environment.UserName == "root";

    private readonly string _bin;
    private readonly string _root;
    private readonly string _data;
    private readonly string _sockets;
    private readonly string _logFile;
    private int _disposed;

    private PostgresServer(string bin, string root, int port)
    {
        _bin = bin;
        _root = root;
        _data = Path.Combine(root, "data");
        _sockets = Path.Combine(root, "sockets");
        _logFile = Path.Combine(root, "server.log");
        Port = port;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>The loopback TCP port the server listens on (kept across <see cref="StopAsync"/> and <see cref="StartAgainAsync"/>).</summary>
    public int Port { get; }

    /// <summary>Connection string of the server's maintenance database (<c>postgres</c>), as the superuser.</summary>
    public string AdminConnectionString => ConnectionString("postgres");

    /// <summary>Connection string of database <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
        // A stopped server must be noticed quickly by the tests that stop it.
        Timeout = 5,
        MaxPoolSize = 50,
    }.ConnectionString;

    /// <summary>Initializes and starts a new server; throws with the server's own output when it cannot.</summary>
    public static async Task<PostgresServer> StartAsync(int sharedBuffersMb = 64, CancellationToken ct = default)
    {
        var bin = FindBinDirectory();
        var root = Path.Combine(IsRoot ? "/tmp" : Path.GetTempPath(), "engine-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path.Combine(root, "sockets"));
        if (IsRoot) await RunAsync("chown", ["-R", "postgres:postgres", root], asPostgres: false, ct);
        var server = new PostgresServer(bin, root, FreePort()) { SharedBuffersMb = sharedBuffersMb };
        try
        {
            // --no-sync only skips flushing the freshly created template files; the running server fsyncs.
            await server.RunPgAsync("initdb", ["-D", server._data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], ct);
            await server.StartAgainAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private int SharedBuffersMb { get; init; }

    /// <summary>
    /// Creates a database, empty or a copy of <paramref name="template"/> (which nobody may be connected to), and
    /// returns its connection string.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string name, string? template = null, CancellationToken ct = default)
    {
        CheckName(name);
        if (template is not null) CheckName(template);
        await AdminAsync($"CREATE DATABASE \"{name}\"" + (template is null ? "" : $" TEMPLATE \"{template}\""), ct);
        return ConnectionString(name);
    }

    /// <summary>Drops a database, ending its sessions.</summary>
    public Task DropDatabaseAsync(string name, CancellationToken ct = default)
    {
        CheckName(name);
        return AdminAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", ct);
    }

    private async Task AdminAsync(string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString + ";Pooling=false");
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync(ct);
    }

    private static void CheckName(string name)
    {
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            throw new ArgumentException("database names here are letters, digits and _", nameof(name));
    }

    /// <summary>Stops the server (<c>fast</c>: disconnects clients and shuts down cleanly; <c>immediate</c>: a crash).</summary>
    public Task StopAsync(string mode = "fast", CancellationToken ct = default) =>
        RunPgAsync("pg_ctl", ["stop", "-D", _data, "-m", mode, "-w"], ct);

    /// <summary>Starts the server again on the same folder and port (after <see cref="StopAsync"/>).</summary>
    public Task StartAgainAsync(CancellationToken ct = default)
    {
        var settings = string.Join(' ',
            "-c listen_addresses=127.0.0.1", $"-c port={Port}", $"-c unix_socket_directories={_sockets}",
            "-c fsync=on", "-c synchronous_commit=on", $"-c shared_buffers={SharedBuffersMb}MB", "-c max_connections=300",
            "-c max_wal_size=2GB");
        return RunPgAsync("pg_ctl", ["start", "-D", _data, "-l", _logFile, "-w", "-t", "60", "-o", settings], ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        NpgsqlConnection.ClearAllPools();
        try
        {
            if (File.Exists(Path.Combine(_data, "postmaster.pid"))) await StopAsync("immediate");
        }
        catch (InvalidOperationException)
        {
            // Already stopped: nothing to do but remove the folder.
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void OnProcessExit(object? sender, EventArgs e)
    {
        // A test run that ends without disposing (a crash, a cancelled run) must not leave a server behind.
        try
        {
            DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }
    }

    private Task RunPgAsync(string tool, IReadOnlyList<string> args, CancellationToken ct) =>
        RunAsync(Path.Combine(_bin, tool), args, asPostgres: IsRoot, ct, _logFile);

    private static async Task RunAsync(string file, IReadOnlyList<string> args, bool asPostgres, CancellationToken ct, string? logFile = null)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var a in (string[])["-u", "postgres", "--", file]) start.ArgumentList.Add(a);
        }

        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not run {file}");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            var message = new StringBuilder($"PostgreSQL test server: '{file} {string.Join(' ', args)}' exited with {process.ExitCode}:\n");
            message.AppendLine(await output).AppendLine(await error);
            if (logFile is not null && File.Exists(logFile)) message.AppendLine("server log:").AppendLine(File.ReadAllText(logFile));
            throw new InvalidOperationException(message.ToString());
        }
    }

    /// <summary>The binaries of the newest installed PostgreSQL; a clear failure when there are none.</summary>
    private static string FindBinDirectory()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("PG_BIN") is { Length: > 0 } configured) candidates.Add(configured);
        if (Directory.Exists("/usr/lib/postgresql"))
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0));
        foreach (var bin in candidates)
            if (File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl"))) return bin;
        throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found under /usr/lib/postgresql/*/bin or $PG_BIN. " +
            "Install them (apt-get install -y postgresql); .ci/run does so on a fresh machine.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
