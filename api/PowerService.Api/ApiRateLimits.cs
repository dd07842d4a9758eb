using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using PowerService.Api.Security;

namespace PowerService.Api;

/// <summary>Rate limits (built-in ASP.NET Core limiter). Public endpoints (the token endpoint) are limited per client
/// address, so one client guessing passwords cannot starve the others. Customer-facing endpoints (work orders,
/// bookings, crew slots) are limited per customer when a customer token is given and per address when no token is
/// (before the 401), so one app or script cannot flood the silo; crews per crew (a lost PDA's token posting positions
/// in a loop filled the journal), over HTTP and on the crew hub; dispatchers and operators are not limited there.
/// Live connections to the hubs are limited per account (a WebSocket's request lasts as long as the connection, so a
/// concurrency lease is one open connection): one customer token opening connections in a loop took the silo to its
/// descriptor limit, where the runtime aborted it.
/// A refused request gets 429 with Retry-After and problem details.</summary>
public static class ApiRateLimits
{
    public const string Public = "public";
    public const string Customer = "customer";
    public const string Hubs = "hubs";

    /// <summary>A hub's negotiation (<c>/hubs/{hub}/negotiate</c>): a short request, limited per account by rate.</summary>
    private static bool IsNegotiation(PathString path) => path.Value?.EndsWith("/negotiate", StringComparison.Ordinal) == true;

    internal static FixedWindowRateLimiterOptions CrewWindow(ApiOptions api) =>
        new() { PermitLimit = api.CrewRateLimit, Window = api.CrewRateWindow, QueueLimit = 0 };

    private static int HubConnectionsFor(ClaimsPrincipal user, ApiOptions api) =>
        user.Identity?.IsAuthenticated == true && !user.IsInRole(Roles.Customer) ? api.HubConnectionsPerStaff : api.HubConnectionsPerCustomer;

    internal static void Configure(RateLimiterOptions options, ApiOptions api)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = async (context, cancellationToken) =>
        {
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : api.PublicRateWindow;
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            var path = context.HttpContext.Request.Path;
            var hub = path.StartsWithSegments("/hubs") && !IsNegotiation(path);
            if (!hub) // a live connection's place frees when another closes, not after a time
            {
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }
            await Results.Problem(
                title: hub ? "Too many live connections" : "Too many requests",
                detail: hub
                    ? $"This account has {HubConnectionsFor(context.HttpContext.User, api)} live connections open, as many as it may: close one (another tab or device) and retry."
                    : $"This client made too many requests; retry in {seconds} s.",
                statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context.HttpContext);
        };
        options.AddPolicy(Hubs, context =>
        {
            // Only the request that carries a connection for its life holds a place (a WebSocket, a server-sent event
            // stream): negotiation and an event-stream client's sends are short requests of a connection already counted.
            // (The WebSocket middleware runs inside the hub's endpoint, after this: the request's headers tell.)
            var live = context.Request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase)
                || HttpMethods.IsConnect(context.Request.Method)
                || (HttpMethods.IsGet(context.Request.Method) && context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase));
            var user = context.User;
            var key = user.Identity?.IsAuthenticated == true
                ? "user:" + user.FindFirstValue(ClaimTypes.Name)
                : "address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            if (IsNegotiation(context.Request.Path))
            {
                // Each negotiation holds a connection's state until its transport comes or a timeout ends it: one
                // customer token negotiating in a loop (28,000 in 45 s) took the silo from 356 to 590 MB. A page
                // negotiates once per (re)connection.
                return RateLimitPartition.GetFixedWindowLimiter("negotiate " + key, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = api.HubNegotiationsPerAccount,
                    Window = api.HubNegotiationWindow,
                    QueueLimit = 0,
                });
            }
            if (!live)
            {
                return RateLimitPartition.GetNoLimiter("hub request");
            }
            return RateLimitPartition.GetConcurrencyLimiter(key, _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = HubConnectionsFor(user, api),
                QueueLimit = 0,
            });
        });
        options.AddPolicy(Public, context => RateLimitPartition.GetFixedWindowLimiter(
            context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            _ => new FixedWindowRateLimiterOptions { PermitLimit = api.PublicRateLimit, Window = api.PublicRateWindow, QueueLimit = 0 }));
        options.AddPolicy(Customer, context =>
        {
            var user = context.User;
            if (user.Identity?.IsAuthenticated == true && user.IsInRole(Roles.Crew))
            {
                // A PDA reports its position at most once a minute and acts a few times an hour; one crew token posting
                // in a loop wrote 330 journal rows a second, each pushed to every console of the region.
                return RateLimitPartition.GetFixedWindowLimiter("crew:" + user.FindFirstValue(Roles.CrewIdClaim), _ => CrewWindow(api));
            }
            if (user.Identity?.IsAuthenticated == true && !user.IsInRole(Roles.Customer))
            {
                return RateLimitPartition.GetNoLimiter("staff");
            }
            var key = user.Identity?.IsAuthenticated == true
                ? "customer:" + user.FindFirstValue(Roles.CustomerIdClaim)
                : "address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            return RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = api.CustomerRateLimit,
                Window = api.CustomerRateWindow,
                QueueLimit = 0,
            });
        });
    }
}

/// <summary>API settings (configuration section <c>Api</c>).</summary>
public sealed class ApiOptions
{
    /// <summary>Live hub connections one customer account may hold at once (a phone and a browser or two).</summary>
    public int HubConnectionsPerCustomer { get; set; } = 5;

    /// <summary>Live hub connections one staff account (dispatcher, crew, operator) may hold at once: a console, the
    /// monitor and a few tabs, or a crew's PDAs.</summary>
    public int HubConnectionsPerStaff { get; set; } = 20;

    /// <summary>Requests one client address may make to a public endpoint per <see cref="PublicRateWindow"/>.</summary>
    public int PublicRateLimit { get; set; } = 20;

    public TimeSpan PublicRateWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests one customer (or one address without a token) may make to the customer-facing endpoints per
    /// <see cref="CustomerRateWindow"/>; the app polls nothing (progress comes over the customer hub), so this is generous.</summary>
    public int CustomerRateLimit { get; set; } = 60;

    public TimeSpan CustomerRateWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests one crew may make per <see cref="CrewRateWindow"/> over HTTP, and as many again over the crew
    /// hub: a PDA needs a few a minute (its position at most once a minute, the crew's steps, a reload).</summary>
    public int CrewRateLimit { get; set; } = 60;

    public TimeSpan CrewRateWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Hub negotiations (<c>/hubs/*/negotiate</c>) one account (or one address without a token) may make per
    /// <see cref="HubNegotiationWindow"/>: a page makes one per connection and reconnection.</summary>
    public int HubNegotiationsPerAccount { get; set; } = 30;

    public TimeSpan HubNegotiationWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How far (bytes) a hub connection may fall behind before a send to it waits (SignalR's default is 64 KB).</summary>
    public long HubSendBuffer { get; set; } = 1 << 20;

    /// <summary>How long a send to a hub connection may be stuck before the connection is dropped (the page reconnects
    /// and reads again; SignalR's default is 10 s).</summary>
    public TimeSpan HubSendTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The reverse proxies in front of the silo (addresses, or networks such as <c>10.0.0.0/8</c>): from them,
    /// the client's address is the one they name in <c>X-Forwarded-For</c>. Behind a proxy every request came from the
    /// proxy's address, so every per-address limit (sign-ins, the public endpoints, the sign-in pause's known
    /// workstations) was one bucket for everyone. Empty (the default): the header is ignored, as anyone could send it.</summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>Web origins (<c>https://crm.example.com</c>) whose pages may call the API and the hubs from the browser
    /// (CORS): a CRM or GIS page on another origin was refused by every browser, with no setting to allow it. Empty
    /// (the default): only the silo's own pages. Tokens travel in the Authorization header, never in cookies, so an
    /// allowed origin gets nothing a page there has not signed in for.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>The <see cref="AllowedOrigins"/> as origins (scheme, host, port); a bad entry stops the silo at start,
    /// naming it.</summary>
    internal string[] ParseAllowedOrigins() => [.. AllowedOrigins.Select(entry =>
        Uri.TryCreate(entry?.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/"
            && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0
            ? uri.GetLeftPart(UriPartial.Authority)
            : throw new InvalidOperationException($"Api:AllowedOrigins: '{entry}' is not a web origin (such as https://crm.example.com: scheme, host and port, no path)."))];

    /// <summary>The <see cref="TrustedProxies"/> as the forwarded-headers middleware takes them; a bad entry stops the silo
    /// at start, naming it.</summary>
    internal (List<System.Net.IPAddress> Proxies, List<System.Net.IPNetwork> Networks) ParseTrustedProxies()
    {
        var proxies = new List<System.Net.IPAddress>();
        var networks = new List<System.Net.IPNetwork>();
        foreach (var entry in TrustedProxies)
        {
            var text = entry?.Trim() ?? "";
            if (text.Contains('/', StringComparison.Ordinal) && System.Net.IPNetwork.TryParse(text, out var network))
            {
                networks.Add(network);
            }
            else if (!text.Contains('/', StringComparison.Ordinal) && System.Net.IPAddress.TryParse(text, out var address))
            {
                proxies.Add(address);
            }
            else
            {
                throw new InvalidOperationException($"Api:TrustedProxies: '{entry}' is not an IP address or a network (such as 10.0.0.0/8).");
            }
        }
        return (proxies, networks);
    }
}
