using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PowerService.Runtime.Storage;
using PowerService.Storage.Sqlite;

namespace PowerService.Runtime.Tests.Support;

/// <summary>Starts a real silo over a real store for one test; dispose stops it gracefully and closes the store.</summary>
public sealed class TestSilo : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IStorageProvider _storage;

    private TestSilo(Silo silo, ServiceProvider services, IStorageProvider storage)
    {
        Silo = silo;
        _services = services;
        _storage = storage;
    }

    public Silo Silo { get; }

    public TGrain Grain<TGrain>(string key) where TGrain : IGrain => Silo.GetGrain<TGrain>(key);

    public static async Task<TestSilo> StartAsync(IStorageProvider storage, Action<SiloOptions>? configure = null)
    {
        var services = new ServiceCollection().AddLogging(b => b.SetMinimumLevel(LogLevel.Warning)).BuildServiceProvider();
        var options = new SiloOptions { CollectionInterval = TimeSpan.FromMilliseconds(50), StorageRetryDelay = TimeSpan.FromMilliseconds(20) };
        options.AddGrainsFrom(typeof(TestSilo).Assembly);
        configure?.Invoke(options);
        var silo = new Silo(options, storage, services, services.GetRequiredService<ILoggerFactory>());
        await silo.StartAsync();
        return new TestSilo(silo, services, storage);
    }

    public Task StopAsync() => Silo.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await Silo.DisposeAsync();
        await _storage.DisposeAsync(); // the test's store: closing it returns its connections to the server
        await _services.DisposeAsync();
    }
}

/// <summary>A SQLite database file in a temp folder, deleted with the test.</summary>
public sealed class TempSqlite : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("powerservice-test-").FullName;

    public string ConnectionString => $"Data Source={Path.Combine(_folder, "silo.db")}";

    public SqliteStorageProvider NewProvider(TimeSpan? busyTimeout = null) =>
        new(new SqliteStorageOptions { ConnectionString = ConnectionString, BusyTimeout = busyTimeout ?? TimeSpan.FromSeconds(5) });

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // a pooled handle may linger a moment; the temp folder is cleaned by the OS
        }
    }
}
