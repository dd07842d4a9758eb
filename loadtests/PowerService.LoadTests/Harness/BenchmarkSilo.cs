using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PowerService.Runtime;
using PowerService.Runtime.Storage;

namespace PowerService.LoadTests.Harness;

/// <summary>A silo started the way the host starts one, with this assembly's grains, logging warnings to the console.
/// Activations live an hour unless a benchmark says otherwise, so the collector never interferes with a run.</summary>
internal sealed class BenchmarkSilo : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IStorageProvider _storage;

    private BenchmarkSilo(Silo silo, ServiceProvider services, IStorageProvider storage)
    {
        Silo = silo;
        _services = services;
        _storage = storage;
    }

    public Silo Silo { get; }

    public static async Task<BenchmarkSilo> StartAsync(
        IStorageProvider storage, Action<SiloOptions>? configure = null, Action<IServiceCollection>? addServices = null)
    {
        var collection = new ServiceCollection().AddLogging(b => b.AddConsole().SetMinimumLevel(LogLevel.Warning));
        addServices?.Invoke(collection);
        var services = collection.BuildServiceProvider();
        var options = new SiloOptions { DefaultIdleTimeout = TimeSpan.FromHours(1), MaxActivations = 4_000_000 };
        options.AddGrainsFrom(typeof(BenchmarkSilo).Assembly);
        configure?.Invoke(options);
        var silo = new Silo(options, storage, services, services.GetRequiredService<ILoggerFactory>());
        await silo.StartAsync();
        return new BenchmarkSilo(silo, services, storage);
    }

    /// <summary>The silo's services (its silo services among them).</summary>
    public IServiceProvider Services => _services;

    public TGrain Grain<TGrain>(string key) where TGrain : IGrain => Silo.GetGrain<TGrain>(key);

    public async ValueTask DisposeAsync()
    {
        await Silo.DisposeAsync();
        await _storage.DisposeAsync();
        await _services.DisposeAsync();
    }
}
