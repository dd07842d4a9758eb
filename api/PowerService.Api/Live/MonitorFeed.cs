using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PowerService.Runtime;

namespace PowerService.Api.Live;

/// <summary>Sends a <see cref="RuntimeSnapshot"/> to <c>/hubs/monitor</c> once a second while anyone watches. The meter
/// listener is created when the first operator connects and disposed when the last one leaves.</summary>
internal sealed class MonitorFeed(Silo silo, HttpOutcomes http, [FromKeyedServices(ConnectionCount.Monitor)] ConnectionCount watchers, IHubContext<MonitorHub> hub) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        RuntimeSampler? sampler = null;
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (watchers.Count == 0)
                {
                    sampler?.Dispose();
                    sampler = null;
                    continue;
                }
                if (sampler is null)
                {
                    sampler = new RuntimeSampler(silo, http);
                    sampler.Take(); // the baseline: rates start from now
                    continue;
                }
                await hub.Clients.All.SendAsync("stats", sampler.Take(), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        finally
        {
            sampler?.Dispose();
        }
    }
}
