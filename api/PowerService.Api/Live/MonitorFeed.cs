using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Hosting;
using PowerService.Runtime;

namespace PowerService.Api.Live;

/// <summary>How many monitor connections are open: the feed works only while someone watches, so an unwatched
/// monitor costs the silo nothing.</summary>
public sealed class MonitorWatchers
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    internal void Joined() => Interlocked.Increment(ref _count);

    internal void Left() => Interlocked.Decrement(ref _count);
}

/// <summary>Sends the silo's statistics to <c>/hubs/monitor</c> once a second while anyone watches.</summary>
internal sealed class MonitorFeed(Silo silo, MonitorWatchers watchers, IHubContext<MonitorHub> hub) : BackgroundService
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
