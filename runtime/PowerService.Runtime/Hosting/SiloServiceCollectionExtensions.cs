using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PowerService.Runtime.Storage;

namespace PowerService.Runtime;

public static class SiloServiceCollectionExtensions
{
    /// <summary>Adds the silo and runs it as a hosted service: started with the host, stopped (and flushed) on
    /// Ctrl+C or SIGTERM. A storage provider must be registered as <see cref="IStorageProvider"/>.</summary>
    public static IServiceCollection AddSilo(this IServiceCollection services, Action<SiloOptions> configure)
    {
        services.AddOptions<SiloOptions>().Configure(configure);
        services.AddSingleton(sp => new Silo(
            sp.GetRequiredService<IOptions<SiloOptions>>().Value,
            sp.GetRequiredService<IStorageProvider>(),
            sp,
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IGrainFactory>(sp => sp.GetRequiredService<Silo>());
        services.AddHostedService<SiloHostedService>();
        return services;
    }
}

internal sealed class SiloHostedService(Silo silo) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => silo.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => silo.StopAsync(cancellationToken);
}
