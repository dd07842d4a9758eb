using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using PowerService.Api.Security;

namespace PowerService.Api.Live;

/// <summary>Group names the live feed sends to.</summary>
internal static class LiveGroups
{
    public static string Region(string region) => $"region:{region}";
    public static string Crew(string crewId) => $"crew:{crewId}";
    public static string Customer(string customerId) => $"customer:{customerId}";
    public static string Order(string orderId) => $"order:{orderId}";
    public const string AllRegions = "regions:all";
}

/// <summary><c>/hubs/dispatch</c>: the command center's live feed of orders, crews, outages and SLA events for the
/// regions a dispatcher watches.</summary>
[Authorize(Policy = Roles.Dispatcher)]
public sealed class DispatchHub : Hub
{
    /// <summary>Starts sending one region's changes to this connection; "*" watches every region.</summary>
    public Task Watch(string region)
    {
        if (string.IsNullOrWhiteSpace(region) || region.Length > 64)
        {
            throw new HubException("region must be 1 to 64 characters.");
        }
        return Groups.AddToGroupAsync(Context.ConnectionId, region == "*" ? LiveGroups.AllRegions : LiveGroups.Region(region));
    }

    public Task Unwatch(string region) =>
        Groups.RemoveFromGroupAsync(Context.ConnectionId, region == "*" ? LiveGroups.AllRegions : LiveGroups.Region(region));
}

/// <summary><c>/hubs/crew</c>: orders pushed to one crew's PDA. A crew token joins its own crew's group only.</summary>
[Authorize(Policy = Roles.Crew)]
public sealed class CrewHub : Hub
{
    public override async Task OnConnectedAsync()
    {
        var crewId = Caller.From(Context.User!).CrewId!;
        await Groups.AddToGroupAsync(Context.ConnectionId, LiveGroups.Crew(crewId));
        await base.OnConnectedAsync();
    }
}

/// <summary><c>/hubs/customer</c>: progress of the customer's own orders and outage notices.</summary>
[Authorize(Policy = Roles.Customer)]
public sealed class CustomerHub : Hub
{
    public override async Task OnConnectedAsync()
    {
        var customerId = Caller.From(Context.User!).CustomerId!;
        await Groups.AddToGroupAsync(Context.ConnectionId, LiveGroups.Customer(customerId));
        await base.OnConnectedAsync();
    }
}

/// <summary><c>/hubs/monitor</c>: runtime metrics, pushed once a second while at least one operator watches.</summary>
[Authorize(Policy = Roles.Operator)]
public sealed class MonitorHub(MonitorWatchers watchers) : Hub
{
    public override Task OnConnectedAsync()
    {
        watchers.Joined();
        return base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        watchers.Left();
        return base.OnDisconnectedAsync(exception);
    }
}
