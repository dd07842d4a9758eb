using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PowerService.Api.Errors;
using PowerService.Api.Crews;
using PowerService.Api.Security;
using PowerService.Api.WorkOrders;
using PowerService.Grains;
using PowerService.Grains.Crews;
using PowerService.Grains.WorkOrders;
using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Api.Live;

/// <summary>Group names the live feed sends to.</summary>
internal static class LiveGroups
{
    public static string Region(string region) => $"region:{region}";
    public static string Crew(string crewId) => $"crew:{crewId}";
    public static string Customer(string customerId) => $"customer:{customerId}";
    public static string Order(string orderId) => $"order:{orderId}";

    /// <summary>Customers supplied through one transformer area (outage notices).</summary>
    public static string Area(string transformerAreaId) => $"area:{transformerAreaId}";

    /// <summary>The customer on one meter (notices of an outage of some meters only).</summary>
    public static string Meter(string meterId) => $"meter:{meterId}";
    public const string AllRegions = "regions:all";

    /// <summary>Every dispatch connection, whatever it watches (import progress).</summary>
    public const string Dispatchers = "dispatchers";
}

/// <summary>A hub whose open connections are counted, so a feed can skip work nobody would receive. A connection
/// joins the group its token is bound to, if the hub has one.</summary>
public abstract class CountedHub(ConnectionCount connections) : Hub
{
    public override async Task OnConnectedAsync()
    {
        connections.Joined();
        try
        {
            if (OwnGroup(Caller.From(Context.User!)) is { } group)
            {
                await Groups.AddToGroupAsync(Context.ConnectionId, group);
            }
            await JoinMoreGroupsAsync();
            await base.OnConnectedAsync();
        }
        catch
        {
            // A connection refused here is never disconnected: uncounted now, or the feed would work for it for ever.
            connections.Left();
            throw;
        }
    }

    private protected virtual string? OwnGroup(Caller caller) => null;

    /// <summary>A text argument: a number, object or list where text is expected is a 400 naming it (bound as a string,
    /// SignalR refused it with its generic "Failed to invoke …" before any check could name it).</summary>
    private protected static string? Text(JsonElement argument, string field) => argument.ValueKind switch
    {
        JsonValueKind.String => argument.GetString(),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => throw new InvalidFieldException(field, $"{field} must be text."),
    };

    /// <summary>Groups a connection joins that need a look-up (a failure refuses the connection, uncounted).</summary>
    private protected virtual Task JoinMoreGroupsAsync() => Task.CompletedTask;

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        connections.Left();
        return base.OnDisconnectedAsync(exception);
    }
}

/// <summary>Open connections of one feed's hubs.</summary>
public sealed class ConnectionCount
{
    public const string Live = "live";
    public const string Monitor = "monitor";

    private int _count;

    public int Count => Volatile.Read(ref _count);

    internal void Joined() => Interlocked.Increment(ref _count);

    internal void Left() => Interlocked.Decrement(ref _count);
}

/// <summary><c>/hubs/dispatch</c>: the command center's live feed of orders, crews, outages and SLA events for the
/// regions a dispatcher watches.</summary>
[Authorize(Policy = Roles.Dispatcher)]
public sealed class DispatchHub([FromKeyedServices(ConnectionCount.Live)] ConnectionCount connections) : CountedHub(connections)
{
    /// <summary>Regions one connection may watch at once: a console watches a few; a client adding names without end
    /// would grow the silo's group table without end.</summary>
    public const int MaxWatchedRegions = 64;

    private const string WatchedKey = "watched";

    private protected override string? OwnGroup(Caller caller) => LiveGroups.Dispatchers;

    /// <summary>Starts sending one region's changes to this connection; "*" watches every region.</summary>
    public Task Watch(JsonElement regionArgument)
    {
        var region = RequestFields.RequiredRegion(Text(regionArgument, "region"), asked: true);
        var watched = Watched();
        // "*" is always taken: it is the way out the limit's message points to, and one group more.
        if (!watched.Contains(region) && watched.Count >= MaxWatchedRegions && region != RegionNames.Every)
        {
            throw new HubException($"A connection watches at most {MaxWatchedRegions} regions; unwatch one first (or watch \"*\").");
        }
        watched.Add(region);
        return Groups.AddToGroupAsync(Context.ConnectionId, GroupOf(region));
    }

    public Task Unwatch(JsonElement regionArgument)
    {
        // Read as Watch reads it (trimmed), so " 海口美兰 " stops what Watch(" 海口美兰 ") started.
        var region = RequestFields.RequiredRegion(Text(regionArgument, "region"), asked: true);
        if (!Watched().Remove(region))
        {
            return Task.CompletedTask;
        }
        return Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupOf(region));
    }

    // One connection's invocations run one at a time, so its set needs no lock.
    private HashSet<string> Watched() =>
        Context.Items.TryGetValue(WatchedKey, out var set) ? (HashSet<string>)set! : (HashSet<string>)(Context.Items[WatchedKey] = new HashSet<string>(StringComparer.Ordinal));

    private static string GroupOf(string region) => region == RegionNames.Every ? LiveGroups.AllRegions : LiveGroups.Region(region);
}

/// <summary><c>/hubs/crew</c>: orders pushed to one crew's PDA, and the PDA's updates back over the same connection —
/// an order's transition, the crew's position and status — checked exactly as their HTTP endpoints check them (the
/// same code), answered with the changed order or crew. A crew token joins its own crew's group only.</summary>
[Authorize(Policy = Roles.Crew)]
public sealed class CrewHub(
    [FromKeyedServices(ConnectionCount.Live)] ConnectionCount connections, IGrainFactory grains, IOptions<JsonOptions> json) : CountedHub(connections)
{
    private protected override string? OwnGroup(Caller caller) => LiveGroups.Crew(caller.CrewId!);

    /// <summary>As <c>POST /api/work-orders/{id}/transitions</c>: <paramref name="change"/> is its body.</summary>
    public async Task<WorkOrderView> Transition(JsonElement orderId, JsonElement change)
    {
        var (order, refusal) = await WorkOrderEndpoints.TransitionAsync(
            grains, RequestFields.RequiredId(Text(orderId, "orderId"), "orderId"), Body<TransitionBody>(change), Caller.From(Context.User!));
        return order ?? throw new HubException($"403 action: {refusal}");
    }

    /// <summary>As <c>POST /api/crews/{id}/location</c> for the caller's own crew.</summary>
    public Task<CrewView> ReportLocation(JsonElement location)
    {
        var caller = Caller.From(Context.User!);
        return CrewEndpoints.ReportLocationAsync(grains, caller.CrewId!, Body<LocationBody>(location), caller);
    }

    /// <summary>As <c>POST /api/crews/{id}/status</c> for the caller's own crew.</summary>
    public Task<CrewView> SetStatus(JsonElement status)
    {
        var caller = Caller.From(Context.User!);
        return CrewEndpoints.SetStatusAsync(grains, caller.CrewId!, new CrewStatusBody(Text(status, "status")), caller);
    }

    /// <summary>An argument read as its HTTP endpoint reads its body (the same options: a field it does not have is
    /// refused, not dropped), its problems named as there.</summary>
    private T? Body<T>(JsonElement argument) where T : class
    {
        var options = json.Value.SerializerOptions;
        try
        {
            return argument.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? null : argument.Deserialize<T>(options);
        }
        catch (JsonException error)
        {
            var (field, detail) = JsonBodyProblem.Describe(error, typeof(T), options);
            throw new InvalidFieldException(field ?? "body", detail);
        }
    }
}

/// <summary>A crew's updates over the crew hub are limited per crew as its HTTP requests are (<see cref="ApiOptions.CrewRateLimit"/>
/// per window, a budget of their own): a connection's messages pass no HTTP rate limiter. Refused: <c>429 …</c>.</summary>
internal sealed class CrewHubRateLimit(ApiOptions api) : IHubFilter, IDisposable
{
    private readonly System.Threading.RateLimiting.PartitionedRateLimiter<string> _crews =
        System.Threading.RateLimiting.PartitionedRateLimiter.Create<string, string>(crew =>
            System.Threading.RateLimiting.RateLimitPartition.GetFixedWindowLimiter(crew, _ => ApiRateLimits.CrewWindow(api)));

    public ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (invocationContext.Hub is not CrewHub)
        {
            return next(invocationContext);
        }
        using var lease = _crews.AttemptAcquire(Caller.From(invocationContext.Context.User!).CrewId ?? "");
        if (!lease.IsAcquired)
        {
            var wait = lease.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var retryAfter) ? retryAfter : api.CrewRateWindow;
            throw new HubException($"429 Too many updates from this crew: retry in {Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))} s.");
        }
        return next(invocationContext);
    }

    public void Dispose() => _crews.Dispose();
}

/// <summary>A hub method's domain errors reach the client as what they are, in the terms of the HTTP answers: a
/// SignalR client otherwise sees only "An unexpected error occurred". The message starts with the status the same
/// request over HTTP would get and the field, then the reason: <c>400 note: note is longer than 2000 characters.</c></summary>
internal sealed partial class DomainErrorHubFilter(ILogger<DomainErrorHubFilter> logger) : IHubFilter
{
    /// <summary>SignalR's own log of failed hub calls, kept to critical: refusals are answers, not errors, and the
    /// silo's own failures are logged here.</summary>
    public const string SignalRDispatcherCategory = "Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher";

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocationContext);
        }
        catch (Exception error) when (DomainExceptionHandler.DomainProblem(error) is { } problem)
        {
            var field = problem.Extensions.TryGetValue("field", out var named) ? $"{named}: " : "";
            throw new HubException($"{problem.Status} {field}{problem.Detail}");
        }
        catch (Exception error) when (error is not HubException)
        {
            LogHubMethodFailed(logger, error, invocationContext.Hub.GetType().Name, invocationContext.HubMethodName);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Hub}.{Method} failed")]
    private static partial void LogHubMethodFailed(ILogger logger, Exception error, string hub, string method);
}

/// <summary><c>/hubs/customer</c>: progress of the customer's own orders and outage notices. A connection also joins
/// the groups of the supply the customer is on (transformer area and meter, from the customer's profile when it
/// connects), so the feed reaches exactly the customers an outage cuts without looking them up. A customer moved to
/// another area by a re-import hears of it on their next connection.</summary>
[Authorize(Policy = Roles.Customer)]
public sealed class CustomerHub([FromKeyedServices(ConnectionCount.Live)] ConnectionCount connections, IGrainFactory grains) : CountedHub(connections)
{
    private protected override string? OwnGroup(Caller caller) => LiveGroups.Customer(caller.CustomerId!);

    private protected override async Task JoinMoreGroupsAsync()
    {
        if (await grains.GetGrain<ICustomerGrain>(Caller.From(Context.User!).CustomerId!).GetProfile() is { } customer)
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, LiveGroups.Area(customer.TransformerAreaId));
            await Groups.AddToGroupAsync(Context.ConnectionId, LiveGroups.Meter(customer.MeterId));
        }
    }
}

/// <summary><c>/hubs/monitor</c>: runtime metrics, pushed once a second while at least one operator watches.</summary>
[Authorize(Policy = Roles.Operator)]
public sealed class MonitorHub([FromKeyedServices(ConnectionCount.Monitor)] ConnectionCount connections) : CountedHub(connections);
