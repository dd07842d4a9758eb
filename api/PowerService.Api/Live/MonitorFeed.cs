using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PowerService.Runtime;

namespace PowerService.Api.Live;

/// <summary>Sends the silo's statistics to <c>/hubs/monitor</c> once a second while anyone watches.</summary>
internal sealed class MonitorFeed(Silo silo, [FromKeyedServices(ConnectionCount.Monitor)] ConnectionCount watchers, IHubContext<MonitorHub> hub) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (watchers.Count > 0 && silo.IsRunning)
            {
                await hub.Clients.All.SendAsync("stats", silo.GetStatistics(), stoppingToken);
            }
        }
    }
}
