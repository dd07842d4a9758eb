using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PowerService.Api.Bookings;
using PowerService.Api.Crews;
using PowerService.Api.Energy;
using PowerService.Api.Indicators;
using PowerService.Api.Errors;
using PowerService.Api.Import;
using PowerService.Api.Live;
using PowerService.Api.Outages;
using PowerService.Api.PlannedOutages;
using PowerService.Api.Security;
using PowerService.Api.WorkOrders;

namespace PowerService.Api;

public static class ApiServiceCollectionExtensions
{
    /// <summary>Registers the API: problem-details errors, bearer-token authentication with the configured local users,
    /// role policies and rate limits.</summary>
    public static IServiceCollection AddPowerServiceApi(this IServiceCollection services, IConfiguration configuration)
    {
        var auth = new AuthOptions();
        configuration.GetSection("Auth").Bind(auth);
        auth.Validate();
        var api = new ApiOptions();
        configuration.GetSection("Api").Bind(api);
        var (proxies, networks) = api.ParseTrustedProxies();
        var origins = api.ParseAllowedOrigins();
        services.AddCors(options => options.AddDefaultPolicy(policy => policy
            .WithOrigins(origins)
            .WithMethods("GET", "POST", "DELETE")
            .WithHeaders("Authorization", "Content-Type", "X-Requested-With", "X-SignalR-User-Agent")
            // What a page there reads: where a created resource is, when to retry, what a refusal is.
            .WithExposedHeaders("Location", "Retry-After")
            .SetPreflightMaxAge(TimeSpan.FromHours(1))));
        services.Configure<ForwardedHeadersOptions>(options =>
        {
            // Only a configured proxy's word is taken: the defaults trust loopback, which would let any client behind a
            // proxy on the same machine pick its own address. Each trusted hop is read from the right; the first address
            // not of a trusted proxy is the client's.
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.ForwardLimit = null;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            proxies.ForEach(options.KnownProxies.Add);
            networks.ForEach(options.KnownIPNetworks.Add);
        });
        services.AddSingleton(auth);
        services.AddSingleton<ConfiguredUsers>();
        services.AddSingleton<SignInThrottle>();
        if (!string.IsNullOrWhiteSpace(auth.KeysFolder))
        {
            services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(auth.KeysFolder));
        }
        services.AddSingleton(api);
        services.AddSingleton<StoreProbe>();
        services.AddConnectionLimits();

        services.AddOpenApi(ApiDocument.Configure);
        // Enums travel as names ("FaultRepair"), not numbers, in every answer. A body field the request does not have
        // is a 400 naming it (JsonBodyProblem), not silently dropped: a misspelt note would be lost without a word.
        // Text is plain text (PlainTextJson) in every body, and a point in time carries its offset (OffsetTimeJson).
        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            options.SerializerOptions.Converters.Add(new PlainTextJson());
            options.SerializerOptions.Converters.Add(new OffsetTimeJson());
            options.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            // {"action":"accept","action":"cancel"} is not "cancel because it came last": a 400, as any ambiguous body.
            options.SerializerOptions.AllowDuplicateProperties = false;
        });
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // The framework's 415 says nothing: a GIS script posting its CSV as form data had no clue what to send.
            if (context.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType && context.ProblemDetails.Detail is null)
            {
                context.ProblemDetails.Detail = context.HttpContext.Request.Path.StartsWithSegments("/api/import", StringComparison.OrdinalIgnoreCase)
                    ? "Send the file as CSV in UTF-8 with the header Content-Type: text/csv."
                    : "Send the body as JSON with the header Content-Type: application/json.";
            }
        });
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddExceptionHandler<DomainExceptionHandler>();
        services.AddAuthentication(BearerTokenDefaults.AuthenticationScheme)
            .AddBearerToken(options =>
            {
                options.BearerTokenExpiration = auth.TokenLifetime;
                options.Events.OnMessageReceived = BearerTokenReader.OnMessageReceived;
            });
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, RoleForbiddenHandler>();
        services.AddAuthorizationBuilder()
            // An endpoint open to "any signed-in user" is open to people: the head-end's machine account posts meter
            // events and is refused everything else (it read orders and outages before).
            .SetDefaultPolicy(new AuthorizationPolicyBuilder().RequireRole(Roles.People).Build())
            .AddPolicy(Roles.AnyAccount, p => p.RequireAuthenticatedUser())
            .AddPolicy(Roles.Dispatcher, p => p.RequireRole(Roles.Dispatcher))
            .AddPolicy(Roles.Operator, p => p.RequireRole(Roles.Operator, Roles.Dispatcher))
            .AddPolicy(Roles.Crew, p => p.RequireRole(Roles.Crew).RequireClaim(Roles.CrewIdClaim))
            .AddPolicy(Roles.Customer, p => p.RequireRole(Roles.Customer).RequireClaim(Roles.CustomerIdClaim))
            .AddPolicy(Roles.Ami, p => p.RequireRole(Roles.Ami));
        services.AddRateLimiter(options => ApiRateLimits.Configure(options, api));
        // Hub methods check their text arguments with RequestFields, so that a bad one is a hub error naming it (a
        // converter here would fail the argument binding with SignalR's generic error); object arguments are read
        // with the bodies' options above.
        // SignalR logs every failed hub call as an error with its stack, a refusal (a 404 order, a 400 field) too, so
        // any crew could fill the log; DomainErrorHubFilter logs the failures that are the silo's own instead.
        services.Configure<LoggerFilterOptions>(options => options.AddFilter(DomainErrorHubFilter.SignalRDispatcherCategory, LogLevel.Critical));
        services.Configure<KestrelServerOptions>(options => options.AddServerHeader = false);
        services.AddSingleton<CrewHubRateLimit>();
        services.AddSingleton<EndedSignIns>();
        services.AddSingleton<SignInHubFilter>();
        services.AddSignalR(options =>
        {
            options.AddFilter<SignInHubFilter>();
            options.AddFilter<CrewHubRateLimit>();
            options.AddFilter<DomainErrorHubFilter>();
        }).AddJsonProtocol(options =>
        {
            options.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter());
            options.PayloadSerializerOptions.Converters.Add(new OffsetTimeJson()); // in UTC, as the HTTP answers
        });
        services.AddKeyedSingleton<ConnectionCount>(ConnectionCount.Live);
        services.AddKeyedSingleton<ConnectionCount>(ConnectionCount.Monitor);
        services.AddSingleton<HttpOutcomes>();
        services.AddHostedService<MonitorFeed>();
        services.AddHostedService<JournalFeed>();
        return services;
    }

    /// <summary>Adds the middleware the API needs, in order, and maps its endpoints.</summary>
    public static WebApplication UsePowerServiceApi(this WebApplication app)
    {
        if (app.Services.GetRequiredService<ApiOptions>().TrustedProxies.Count > 0)
        {
            // First: every per-address limit and the sign-in throttle read the client's address, not the proxy's.
            app.UseForwardedHeaders();
        }
        HttpOutcomes.UseHttpOutcomes(app);
        app.UseExceptionHandler();
        app.UseSecurityHeaders();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseStatusCodePages();
        app.UseRequestSizeLimits();
        // Before authentication: a browser's preflight carries no token.
        app.UseCors();
        app.UseAuthentication();
        // Between the two: the limiter knows the customer, and cuts off an address flooding without a token before its 401s.
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseKnownQueryParameters();
        app.MapOpenApi();
        app.MapHealthEndpoints();
        app.MapTokenEndpoints();
        app.MapRuntimeEndpoints();
        app.MapWorkOrderEndpoints();
        app.MapCrewEndpoints();
        app.MapBookingEndpoints();
        app.MapImportEndpoints();
        app.MapMeterEventEndpoints();
        app.MapOutageEndpoints();
        app.MapEnergyEndpoints();
        app.MapPlannedOutageEndpoints();
        app.MapIndicatorEndpoints();
        // A connection lives no longer than the token it was opened with: a crew signed out by its token's end (or a
        // leaked token past it) keeps no open hub to act through; the pages reconnect with a fresh sign-in.
        // A connection may fall behind by Api:HubSendBuffer (1 MB; 64 KB by default) before a send to it waits, and a
        // send stuck Api:HubSendTimeout (5 s; 10 s by default) drops it: a console that stopped reading goes soon, and
        // the live feed does not wait for its group meanwhile (JournalFeed.PageSends). Long polling is not offered: its connection outlives its requests, so the
        // per-account cap (a concurrency lease per request) did not hold for it; WebSockets and server-sent events keep
        // one request open for the connection's life.
        var limits = app.Services.GetRequiredService<ApiOptions>();
        void UntilTokenEnds(Microsoft.AspNetCore.Http.Connections.HttpConnectionDispatcherOptions options)
        {
            options.CloseOnAuthenticationExpiration = true;
            options.TransportMaxBufferSize = limits.HubSendBuffer;
            options.TransportSendTimeout = limits.HubSendTimeout;
            options.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets
                | Microsoft.AspNetCore.Http.Connections.HttpTransportType.ServerSentEvents;
        }
        app.MapHub<DispatchHub>("/hubs/dispatch", UntilTokenEnds).RequireRateLimiting(ApiRateLimits.Hubs);
        app.MapHub<CrewHub>("/hubs/crew", UntilTokenEnds).RequireRateLimiting(ApiRateLimits.Hubs);
        app.MapHub<CustomerHub>("/hubs/customer", UntilTokenEnds).RequireRateLimiting(ApiRateLimits.Hubs);
        app.MapHub<MonitorHub>("/hubs/monitor", UntilTokenEnds).RequireRateLimiting(ApiRateLimits.Hubs);
        return app;
    }
}
