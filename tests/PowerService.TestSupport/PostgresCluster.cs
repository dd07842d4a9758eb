using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace PowerService.TestSupport;

public sealed class PostgresClusterOptions
{
    /// <summary>Off trades crash safety for speed; a throwaway test cluster does not need to survive a crash.</summary>
    public bool Fsync { get; init; } = true;

    /// <summary>When <see cref="PostgresCluster.ExternalServerVariable"/> is set, use that server instead of starting
    /// one. A test that stops the server must own it, and turns this off.</summary>
    public bool UseExternalServer { get; init; } = true;
}

/// <summary>A throwaway PostgreSQL cluster built from the local server binaries (initdb, pg_ctl) in a fresh temporary
/// directory on a free port, deleted on dispose; or an existing server named by <see cref="ExternalServerVariable"/>.</summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    public const string ExternalServerVariable = "POWERSERVICE_PG_CONNECTION";
    private const string DatabaseName = "powerservice";
    private const string AdminDatabase = "postgres";
    private const string SuperUser = "postgres";
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(2);

    private readonly LocalServer? _local;
    private readonly string _adminConnectionString;

    private PostgresCluster(LocalServer? local, string connectionString, string adminConnectionString)
    {
        _local = local;
        ConnectionString = connectionString;
        _adminConnectionString = adminConnectionString;
    }

    /// <summary>The <c>powerservice</c> database, user <c>postgres</c> (or the external server's own connection string).</summary>
    public string ConnectionString { get; }

    public bool IsExternal => _local is null;

    public static async Task<PostgresCluster> StartAsync(PostgresClusterOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PostgresClusterOptions();
        var external = Environment.GetEnvironmentVariable(ExternalServerVariable);
        if (options.UseExternalServer && !string.IsNullOrWhiteSpace(external))
        {
            var admin = new NpgsqlConnectionStringBuilder(external) { Pooling = false }.ConnectionString;
            return new PostgresCluster(null, external, admin);
        }

        var local = await LocalServer.CreateAsync(options, cancellationToken);
        try
        {
            var admin = local.ConnectionStringFor(AdminDatabase, pooling: false);
            var cluster = new PostgresCluster(local, local.ConnectionStringFor(DatabaseName, pooling: true), admin);
            await cluster.CreateDatabaseAsync(DatabaseName, cancellationToken);
            return cluster;
        }
        catch
        {
            await local.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates an empty database and returns a connection string for it. It fails when the name is taken:
    /// on an external server an existing database may be someone's data, so it is never dropped.</summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        RequireValidName(name);
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new NpgsqlConnectionStringBuilder(_local is null ? ConnectionString : _adminConnectionString)
        {
            Database = name,
            Pooling = true,
        }.ConnectionString;
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, cutting off any sessions still on it.</summary>
    public async Task DropDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        RequireValidName(name);
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Stops the server (fast shutdown: sessions are cut off), as if the store went down.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        RequireLocal().StopAsync("fast", cancellationToken);

    /// <summary>Starts the stopped server again, on the same port and data.</summary>
    public Task StartAgainAsync(CancellationToken cancellationToken = default) =>
        RequireLocal().StartAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_local is not null)
        {
            await _local.DisposeAsync();
        }
    }

    // The name is spliced into DDL, which takes no parameters.
    private static void RequireValidName(string name)
    {
        if (name.Length == 0 || name.Length > 63 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            throw new ArgumentException($"Database name '{name}' must be 1-63 characters of a-z, 0-9 and '_'.", nameof(name));
        }
    }

    private LocalServer RequireLocal() =>
        _local ?? throw new InvalidOperationException(
            $"This cluster is the external server from {ExternalServerVariable}; only a cluster started here can be stopped and started.");

    /// <summary>The server process and its temporary directory.</summary>
    private sealed class LocalServer : IAsyncDisposable
    {
        private readonly string _binDirectory;
        private readonly string _rootDirectory;
        private readonly string _dataDirectory;
        private readonly string _logFile;
        private readonly bool _runAsPostgres;
        private int _port;
        private bool _running;

        private LocalServer(string binDirectory, string rootDirectory, bool runAsPostgres)
        {
            _binDirectory = binDirectory;
            _rootDirectory = rootDirectory;
            _dataDirectory = Path.Combine(rootDirectory, "data");
            _logFile = Path.Combine(rootDirectory, "server.log");
            _runAsPostgres = runAsPostgres;
        }

        public static async Task<LocalServer> CreateAsync(PostgresClusterOptions options, CancellationToken cancellationToken)
        {
            var binDirectory = FindBinDirectory();
            // PostgreSQL refuses to run as root: as root (CI), the server runs as the postgres OS user.
            var runAsPostgres = Environment.UserName == "root";
            if (runAsPostgres)
            {
                await RequirePostgresUserAsync(cancellationToken);
            }
            // A fresh directory per start, so a cluster left behind by a crashed run never gets in the way; as root,
            // under /tmp, which the postgres user can reach whatever TMPDIR says.
            var parent = runAsPostgres ? "/tmp" : Path.GetTempPath();
            var root = Path.Combine(parent, "powerservice-pg-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(root);
            var server = new LocalServer(binDirectory, root, runAsPostgres);
            try
            {
                await server.InitializeAsync(options, cancellationToken);
                return server;
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        public string ConnectionStringFor(string database, bool pooling) => new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = _port,
            Username = SuperUser,
            Database = database,
            Pooling = pooling,
        }.ConnectionString;

        private async Task InitializeAsync(PostgresClusterOptions options, CancellationToken cancellationToken)
        {
            if (_runAsPostgres)
            {
                await RunAsync("chown", ["-R", SuperUser, _rootDirectory], asPostgres: false, cancellationToken);
            }
            await RunAsync(Path.Combine(_binDirectory, "initdb"),
                ["-D", _dataDirectory, "-U", SuperUser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                asPostgres: _runAsPostgres, cancellationToken);
            await File.AppendAllTextAsync(Path.Combine(_dataDirectory, "postgresql.conf"), string.Create(CultureInfo.InvariantCulture, $"""

                listen_addresses = '127.0.0.1'
                unix_socket_directories = '{_rootDirectory}'
                fsync = {(options.Fsync ? "on" : "off")}
                max_connections = 200
                shared_buffers = 256MB

                """), cancellationToken);

            // The free port may be taken between choosing it and binding it: choose again a few times.
            for (var attempt = 1; ; attempt++)
            {
                _port = FreePort();
                await File.AppendAllTextAsync(Path.Combine(_dataDirectory, "postgresql.conf"), $"port = {_port}\n", cancellationToken);
                try
                {
                    await StartAsync(cancellationToken);
                    return;
                }
                catch (InvalidOperationException ex) when (attempt < 3 && ex.Message.Contains("could not bind", StringComparison.Ordinal))
                {
                }
            }
        }

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", _dataDirectory, "-l", _logFile, "-w", "-t", "60", "start"],
                asPostgres: _runAsPostgres, cancellationToken);
            _running = true;
        }

        public async Task StopAsync(string mode, CancellationToken cancellationToken)
        {
            await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", _dataDirectory, "-m", mode, "-w", "stop"],
                asPostgres: _runAsPostgres, cancellationToken);
            _running = false;
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (_running)
                {
                    await StopAsync("immediate", CancellationToken.None);
                }
            }
            finally
            {
                try
                {
                    Directory.Delete(_rootDirectory, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // A temporary directory left behind must not fail the test run; the next run uses a new one.
                }
            }
        }

        private async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres, CancellationToken cancellationToken)
        {
            var start = new ProcessStartInfo
            {
                FileName = asPostgres ? "runuser" : program,
                // The server's own working directory must be one the postgres user can enter.
                WorkingDirectory = _rootDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            if (asPostgres)
            {
                start.ArgumentList.Add("-u");
                start.ArgumentList.Add(SuperUser);
                start.ArgumentList.Add("--");
                start.ArgumentList.Add(program);
            }
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            var commandLine = string.Join(' ', start.ArgumentList.Prepend(start.FileName));

            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start: {commandLine}");
            // pg_ctl hands the server its own log file, so these pipes close when the tool itself exits.
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ToolTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"'{commandLine}' did not finish within {ToolTimeout.TotalSeconds:0} s.");
            }
            if (process.ExitCode != 0)
            {
                var message = new StringBuilder()
                    .Append(CultureInfo.InvariantCulture, $"'{commandLine}' failed with exit code {process.ExitCode}.")
                    .Append(CultureInfo.InvariantCulture, $"\n--- output ---\n{await output}\n--- errors ---\n{await error}");
                if (File.Exists(_logFile))
                {
                    message.Append(CultureInfo.InvariantCulture, $"\n--- server log ({_logFile}) ---\n{await File.ReadAllTextAsync(_logFile, CancellationToken.None)}");
                }
                throw new InvalidOperationException(message.ToString());
            }
        }

        private static async Task RequirePostgresUserAsync(CancellationToken cancellationToken)
        {
            var start = new ProcessStartInfo("id", ["-u", SuperUser]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not run 'id' to look up the postgres user.");
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    "Running as root, the test PostgreSQL cluster must run as the 'postgres' OS user, which does not exist. " +
                    "Install PostgreSQL with 'apt-get install -y postgresql' (it creates the user), or create it with " +
                    "'useradd --system --user-group --home-dir /var/lib/postgresql postgres'.");
            }
        }

        private static string FindBinDirectory()
        {
            static bool HasTools(string directory) =>
                File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl"));

            var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .FirstOrDefault(HasTools);
            if (onPath is not null)
            {
                return onPath;
            }
            // Debian keeps the server binaries off PATH, one directory per major version: take the newest.
            const string debianRoot = "/usr/lib/postgresql";
            var installed = Directory.Exists(debianRoot)
                ? Directory.GetDirectories(debianRoot)
                    .Select(d => (Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1, Bin: Path.Combine(d, "bin")))
                    .Where(d => HasTools(d.Bin))
                    .OrderByDescending(d => d.Version)
                    .Select(d => d.Bin)
                    .FirstOrDefault()
                : null;
            return installed ?? throw new InvalidOperationException(
                "The PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in /usr/lib/postgresql/*/bin. " +
                "Install them with: apt-get install -y postgresql " +
                $"(or set {ExternalServerVariable} to the connection string of a server to use instead).");
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
