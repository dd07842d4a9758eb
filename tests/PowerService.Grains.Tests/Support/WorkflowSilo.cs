using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PowerService.Grains.Hosting;
using PowerService.Grains.Topology.Import;
using PowerService.Runtime;
using PowerService.Runtime.Storage;
using PowerService.Storage.Sqlite;
using PowerService.TestSupport;

namespace PowerService.Grains.Tests.Support;

/// <summary>A real silo with the workflow grains over a real SQLite file and a clock the test moves. Restart keeps
/// the database (a silo restart loses nothing); dispose deletes it.</summary>
public sealed class WorkflowSilo : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("powerservice-grains-").FullName;
    private readonly Action<WorkflowOptions>? _configure;
    private readonly Func<ManualTimeProvider, IStorageProvider>? _openStore;
    private ServiceProvider? _services;
    private IStorageProvider? _storage;
    private Silo? _silo;
    private string _database;
    private int _crashes;

    private readonly TimeSpan _busyTimeout;

    private WorkflowSilo(
        DateTimeOffset start, Action<WorkflowOptions>? configure, Func<ManualTimeProvider, IStorageProvider>? openStore, TimeSpan busyTimeout)
    {
        Clock = new ManualTimeProvider(start);
        _database = Path.Combine(_folder, "silo.db");
        _configure = configure;
        _openStore = openStore;
        _busyTimeout = busyTimeout;
    }

    /// <summary>Monday 2026-11-23 09:00 China time: a working day, office hours.</summary>
    public static readonly DateTimeOffset MondayMorning = new(2026, 11, 23, 9, 0, 0, TimeSpan.FromHours(8));

    public ManualTimeProvider Clock { get; }

    /// <summary>Where the file-backed notice channels write (one JSON-lines file per channel).</summary>
    public string NoticeFolder => Path.Combine(_folder, "notices");

    public Silo Silo => _silo ?? throw new InvalidOperationException("The silo is stopped.");

    public IStorageProvider Storage => _storage ?? throw new InvalidOperationException("The silo is stopped.");

    public TGrain Grain<TGrain>(string key) where TGrain : IGrain => Silo.GetGrain<TGrain>(key);

    /// <param name="openStore">Opens the store on the silo's clock (every start opens the same database); SQLite in a
    /// temp folder when null.</param>
    /// <param name="storeBusyTimeout">How long the default SQLite store waits for a lock before a write attempt fails
    /// (see <see cref="LockStoreAsync"/>); 5 s when null.</param>
    public static async Task<WorkflowSilo> StartAsync(
        Action<WorkflowOptions>? configure = null,
        DateTimeOffset? start = null,
        Func<ManualTimeProvider, IStorageProvider>? openStore = null,
        TimeSpan? storeBusyTimeout = null)
    {
        var silo = new WorkflowSilo(start ?? MondayMorning, configure, openStore, storeBusyTimeout ?? TimeSpan.FromSeconds(5));
        try
        {
            await silo.StartSiloAsync();
            await silo.ServeRegionsAsync();
        }
        catch
        {
            await silo.DisposeAsync(); // a refused start leaves no temp folder behind
            throw;
        }
        return silo;
    }

    /// <summary>The regions the tests' orders are placed in without a customer (an order is refused in a region nobody
    /// serves): each gets a feeder, as an imported topology would give it, and no crew (an order there waits for one).</summary>
    public static readonly IReadOnlyList<string> ServedRegions = ["north", "quiet", "storm"];

    private async Task ServeRegionsAsync()
    {
        var feeders = "feeder_id,name,substation_id,substation_name,region\n"
            + string.Concat(ServedRegions.Select(region => $"FD-{region},{region} feeder,SS-{region},{region} substation,{region}\n"));
        var result = await new TopologyImport(Silo).ImportAsync(ImportKind.Feeders, new MemoryStream(Encoding.UTF8.GetBytes(feeders)), "ops:seed");
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(string.Join("; ", result.Errors));
        }
    }

    /// <summary>Stops the silo gracefully and starts a new one over the same database and clock; the clock moves by
    /// <paramref name="downFor"/> while no silo runs (what fell due meanwhile fires on start).</summary>
    public async Task RestartAsync(TimeSpan downFor = default)
    {
        await StopSiloAsync();
        Clock.Advance(downFor);
        await StartSiloAsync();
    }

    /// <summary>The process dies: a new silo starts over the database exactly as it was committed at this moment, so
    /// whatever the silo held only in memory — state written behind, timers, queued writes — is lost, as in a crash.
    /// (The old silo is then stopped over a database nobody reads again.) Only on the default SQLite store.</summary>
    public async Task CrashAsync()
    {
        if (_openStore is not null)
        {
            throw new NotSupportedException("A crash is simulated on the default SQLite store.");
        }
        var committed = Path.Combine(_folder, $"silo-after-crash-{++_crashes}.db");
        using (var from = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_database}"))
        using (var to = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={committed}"))
        {
            from.Open();
            to.Open();
            from.BackupDatabase(to);
        }
        await StopSiloAsync();
        _database = committed;
        await StartSiloAsync();
    }

    /// <summary>Takes the default SQLite store's write lock until disposed: the silo's writes fail after its retries
    /// (a store that is down), its reads still work. Start the silo with a short <c>storeBusyTimeout</c>.</summary>
    public async Task<IAsyncDisposable> LockStoreAsync()
    {
        var blocker = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_database};Pooling=False");
        await blocker.OpenAsync();
        await using var begin = blocker.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE";
        await begin.ExecuteNonQueryAsync();
        return blocker; // closing it (not pooled) rolls the empty transaction back
    }

    /// <summary>Moves the clock in one step; reminders that fell due fire in due order (assert with
    /// <see cref="Eventually"/>, they run in the background).</summary>
    public void Advance(TimeSpan by) => Clock.Advance(by);

    private async Task StartSiloAsync()
    {
        _services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddWorkflow(configure: o =>
            {
                // Notice files live with the database: a test's notices are its own, and deleted with it.
                o.Notices.Folder = NoticeFolder;
                _configure?.Invoke(o);
            })
            .BuildServiceProvider();
        _storage = _openStore?.Invoke(Clock) ?? new SqliteStorageProvider(new SqliteStorageOptions
        {
            ConnectionString = $"Data Source={_database}",
            BusyTimeout = _busyTimeout,
            TimeProvider = Clock,
        });
        var options = new SiloOptions
        {
            CollectionInterval = TimeSpan.FromMilliseconds(50),
            StorageRetryDelay = TimeSpan.FromMilliseconds(20),
            TimeProvider = Clock,
        };
        options.AddGrainsFrom(GrainsAssembly.Value);
        _silo = new Silo(options, _storage, _services, _services.GetRequiredService<ILoggerFactory>());
        await _silo.StartAsync();
    }

    private async Task StopSiloAsync()
    {
        if (_silo is not null)
        {
            await _silo.DisposeAsync();
            _silo = null;
        }
        if (_storage is not null)
        {
            await _storage.DisposeAsync();
            _storage = null;
        }
        if (_services is not null)
        {
            await _services.DisposeAsync();
            _services = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopSiloAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a closing connection; the temp folder is cleaned by the OS.
        }
    }
}
