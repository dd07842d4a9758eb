using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PowerService.Api.Security;
using PowerService.Api.Tests.Support;
using PowerService.Grains.Accounts;
using PowerService.TestSupport;

namespace PowerService.Api.Tests;

/// <summary>The customer-facing endpoints are limited per customer, and per address without a token; crews per crew, over
/// HTTP and on the crew hub; dispatchers are not.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private readonly ApiFactory _api = new ApiFactory().With("Api:CustomerRateLimit", "3").With("Api:CustomerRateWindow", "00:01:00")
        .With("Api:CrewRateLimit", "4").With("Api:CrewRateWindow", "00:01:00");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_customer_over_the_limit_gets_429_with_retry_after_while_a_dispatcher_goes_on()
    {
        var customer = await _api.ClientForAsync("customer-wang");
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await customer.GetAsync("/api/work-orders")).StatusCode);
        }

        var refused = await customer.GetAsync("/api/work-orders");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Too many requests", (await ApiScenario.JsonAsync(refused)).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await customer.PostAsync("/api/bookings/C-1~1/confirm", null)).StatusCode);
        // The outage and planned-work lists a customer's tracker reads count against the same allowance.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await customer.GetAsync("/api/outages")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await customer.GetAsync("/api/planned-outages")).StatusCode);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await dispatcher.GetAsync("/api/work-orders?region=R1")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await dispatcher.GetAsync("/api/planned-outages")).StatusCode);
        }
    }

    [Fact]
    public async Task Calls_without_a_token_are_counted_per_address_and_cut_off_before_their_401()
    {
        var anonymous = _api.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/work-orders/WO-1")).StatusCode);
        }

        var refused = await anonymous.GetAsync("/api/work-orders/WO-1");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
    }

    [Fact]
    public async Task A_crew_posting_its_position_in_a_loop_gets_429_over_HTTP_and_on_its_hub_while_dispatchers_go_on()
    {
        var server = _api.StartKestrel();
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.RegisterCrewAsync(dispatcher, "C-12");
        var crew = await _api.ClientForAsync("crew-c12");
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await crew.PostAsJsonAsync("/api/crews/C-12/location", new { latitude = 20.0 + (i / 1000.0), longitude = 110.3 })).StatusCode);
        }
        await using var pda = await SignalRConnection.ConnectAsync(new Uri(server, "/hubs/crew"), await _api.TokenForAsync("crew-c12"));
        for (var i = 0; i < 4; i++)
        {
            await pda.InvokeAsync("ReportLocation", new { latitude = 20.01, longitude = 110.3 + (i / 1000.0) });
        }

        var refused = await crew.PostAsJsonAsync("/api/crews/C-12/location", new { latitude = 20.1, longitude = 110.3 });
        var refusedOnHub = await Assert.ThrowsAsync<InvalidOperationException>(() => pda.InvokeAsync("ReportLocation", new { latitude = 20.1, longitude = 110.3 }));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Contains("HubException: 429 Too many updates from this crew: retry in", refusedOnHub.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await dispatcher.PostAsJsonAsync("/api/crews/C-12/status", new { status = "Available" })).StatusCode);
        var history = await ApiScenario.JsonAsync(await dispatcher.GetAsync("/api/crews/C-12"));
        var last = history.GetProperty("location");
        Assert.Equal((20.01, 110.303), (Math.Round(last.GetProperty("latitude").GetDouble(), 3), Math.Round(last.GetProperty("longitude").GetDouble(), 3))); // nothing refused was applied
    }
}

/// <summary>Password guessing is limited per user name, whatever addresses it comes from, and by password checks at
/// once across the silo. The per-address limit is raised so that one test client can make the guesses.</summary>
public sealed class SignInRateLimitTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly ApiFactory _api;

    public SignInRateLimitTests() => _api = new ApiFactory().WithSiloClock(_clock).With("Api:PublicRateLimit", "1000");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Ten_wrong_passwords_pause_the_accounts_sign_ins_for_the_right_password_too_until_the_window_ends()
    {
        var client = _api.CreateClient();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(client, "dispatcher-li", $"guess {i}")).StatusCode);
        }

        var paused = await SignInAsync(client, "dispatcher-li", ApiFactory.Password);

        Assert.Equal(HttpStatusCode.TooManyRequests, paused.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(5), paused.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", paused.Content.Headers.ContentType?.MediaType);
        var problem = await ApiScenario.JsonAsync(paused);
        Assert.Equal("Sign-ins paused", problem.GetProperty("title").GetString());
        Assert.Equal("Sign-ins for this account are paused after too many failed attempts; retry in 300 s.", problem.GetProperty("detail").GetString());
        // Names are the user store's: case-insensitive.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SignInAsync(client, "DISPATCHER-LI", ApiFactory.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(client, "crew-c12", ApiFactory.Password)).StatusCode);

        _clock.Advance(TimeSpan.FromMinutes(4));
        var later = await SignInAsync(client, "dispatcher-li", ApiFactory.Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, later.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(1), later.Headers.RetryAfter?.Delta);

        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(client, "dispatcher-li", ApiFactory.Password)).StatusCode);
    }

    /// <summary>Anyone could keep a dispatcher from signing in during a storm with ten wrong passwords every five minutes,
    /// from anywhere. From an address the name signed in from before, only that address's own failures count: the
    /// dispatcher's workstation signs in through a pause someone else caused, a new place waits for it, and guessing from
    /// the workstation is paused as fast as from anywhere.</summary>
    [Fact]
    public async Task A_pause_caused_from_elsewhere_does_not_stop_a_sign_in_from_an_address_the_name_signed_in_from_before()
    {
        // Three places, as loopback addresses the test's sockets are bound to.
        var (workstation, attacker, newPlace) = (IPAddress.Parse("127.0.0.5"), IPAddress.Parse("127.0.0.9"), IPAddress.Parse("127.0.0.7"));
        Assert.Equal(200, await SignInFromAsync(workstation, "dispatcher-li", ApiFactory.Password));
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(401, await SignInFromAsync(attacker, "dispatcher-li", $"guess {i}"));
        }

        Assert.Equal(429, await SignInFromAsync(attacker, "dispatcher-li", ApiFactory.Password));
        Assert.Equal(429, await SignInFromAsync(newPlace, "dispatcher-li", ApiFactory.Password));
        Assert.Equal(200, await SignInFromAsync(workstation, "dispatcher-li", ApiFactory.Password));

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(401, await SignInFromAsync(workstation, "dispatcher-li", $"guess {i}"));
        }
        Assert.Equal(429, await SignInFromAsync(workstation, "dispatcher-li", ApiFactory.Password));
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(200, await SignInFromAsync(newPlace, "dispatcher-li", ApiFactory.Password));
    }

    /// <summary>Known addresses were kept in memory only: after a restart (a deploy, a crash in a storm) the dispatcher's
    /// workstation was unknown until it signed in again, and the attacker's ten wrong passwords kept it from doing so.
    /// They are kept in the user's grain, and read when the user's sign-ins are paused.</summary>
    [Fact]
    public async Task A_workstation_known_before_a_restart_still_signs_in_through_a_pause_caused_after_it()
    {
        var database = Path.Combine(Directory.CreateTempSubdirectory("powerservice-api-restart-").FullName, "api.db");
        var (workstation, attacker) = (IPAddress.Parse("127.0.0.5"), IPAddress.Parse("127.0.0.9"));
        await using (var before = new ApiFactory().WithSiloClock(_clock).With("Api:PublicRateLimit", "1000").With("Storage:ConnectionString", $"Data Source={database}"))
        {
            Assert.Equal(200, await SignInFromAsync(before.StartKestrel(), workstation, "dispatcher-li", ApiFactory.Password));
            var places = before.Services.GetRequiredService<PowerService.Runtime.Silo>().GetGrain<ISignInPlacesGrain>("dispatcher-li");
            await Eventually.True(async () => (await places.Get()).Count == 1, "the workstation is stored");
        }
        await using var after = new ApiFactory().WithSiloClock(_clock).With("Api:PublicRateLimit", "1000").With("Storage:ConnectionString", $"Data Source={database}");
        var served = after.StartKestrel();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(401, await SignInFromAsync(served, attacker, "dispatcher-li", $"guess {i}"));
        }

        Assert.Equal(429, await SignInFromAsync(served, attacker, "dispatcher-li", ApiFactory.Password));
        Assert.Equal(200, await SignInFromAsync(served, workstation, "dispatcher-li", ApiFactory.Password));
    }

    /// <summary>Known addresses were one table for all names, capped and oldest out: one customer account signing in from
    /// as many addresses as the cap pushed the dispatcher's workstation out, and the lock-out worked again. They are kept
    /// per name now (the latest few of each).</summary>
    [Fact]
    public async Task Sign_ins_of_another_account_from_many_addresses_do_not_push_a_dispatchers_workstation_out()
    {
        await using var api = new ApiFactory().WithSiloClock(_clock).With("Api:PublicRateLimit", "1000").With("Auth:FailedSignInNames", "3");
        var served = api.StartKestrel();
        var workstation = IPAddress.Parse("127.0.0.5");
        Assert.Equal(200, await SignInFromAsync(served, workstation, "dispatcher-li", ApiFactory.Password));
        for (var i = 1; i <= 12; i++)
        {
            Assert.Equal(200, await SignInFromAsync(served, IPAddress.Parse($"127.0.1.{i}"), "customer-wang", ApiFactory.Password));
        }
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(401, await SignInFromAsync(served, IPAddress.Parse("127.0.0.9"), "dispatcher-li", $"guess {i}"));
        }

        Assert.Equal(429, await SignInFromAsync(served, IPAddress.Parse("127.0.0.9"), "dispatcher-li", ApiFactory.Password));
        Assert.Equal(200, await SignInFromAsync(served, workstation, "dispatcher-li", ApiFactory.Password));
    }

    [Fact]
    public async Task An_unknown_name_is_paused_with_the_same_answer_as_a_known_one()
    {
        var client = _api.CreateClient();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(client, "dispatcher-li", $"guess {i}")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(client, "nobody", $"guess {i}")).StatusCode);
        }

        var known = await SignInAsync(client, "dispatcher-li", "guess 10");
        var unknown = await SignInAsync(client, "nobody", "guess 10");

        Assert.Equal(HttpStatusCode.TooManyRequests, unknown.StatusCode);
        Assert.Equal(known.StatusCode, unknown.StatusCode);
        Assert.Equal(known.Headers.RetryAfter, unknown.Headers.RetryAfter);
        Assert.Equal(known.Content.Headers.ContentType, unknown.Content.Headers.ContentType);
        var (knownProblem, unknownProblem) = (await ApiScenario.JsonAsync(known), await ApiScenario.JsonAsync(unknown));
        foreach (var property in new[] { "status", "title", "detail" })
        {
            Assert.Equal(knownProblem.GetProperty(property).ToString(), unknownProblem.GetProperty(property).ToString());
        }
    }

    [Fact]
    public async Task A_token_and_a_refresh_token_from_before_keep_working_while_the_accounts_sign_ins_are_paused()
    {
        var client = _api.CreateClient();
        var tokens = await ApiScenario.JsonAsync(await SignInAsync(client, "crew-c12", ApiFactory.Password));
        for (var i = 0; i < 10; i++)
        {
            await SignInAsync(client, "crew-c12", $"guess {i}");
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SignInAsync(client, "crew-c12", ApiFactory.Password)).StatusCode);

        var me = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/auth/me")
        {
            Headers = { Authorization = new("Bearer", tokens.GetProperty("accessToken").GetString()) },
        });
        var refreshed = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = tokens.GetProperty("refreshToken").GetString() });

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
    }

    [Fact]
    public async Task Past_the_names_it_remembers_the_throttle_forgets_the_oldest_window()
    {
        await using var api = new ApiFactory().WithSiloClock(_clock).With("Api:PublicRateLimit", "1000").With("Auth:FailedSignInNames", "2");
        var client = api.CreateClient();
        for (var i = 0; i < 10; i++)
        {
            await SignInAsync(client, "dispatcher-li", $"guess {i}");
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SignInAsync(client, "dispatcher-li", ApiFactory.Password)).StatusCode);

        await SignInAsync(client, "made-up-1", "guess");
        await SignInAsync(client, "made-up-2", "guess");

        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(client, "dispatcher-li", ApiFactory.Password)).StatusCode);
    }

    /// <summary>The silo's one password check is held here, as a slow check would hold it.</summary>
    [Fact]
    public async Task With_every_password_check_taken_and_no_place_in_the_queue_a_sign_in_gets_503_with_retry_after_1()
    {
        await using var api = new ApiFactory().With("Auth:ConcurrentPasswordChecks", "1").With("Auth:PasswordCheckQueue", "0");
        var client = api.CreateClient();
        var held = await api.Services.GetRequiredService<SignInThrottle>().PasswordCheckAsync(CancellationToken.None);
        Assert.True(held.IsAcquired);

        var refused = await SignInAsync(client, "dispatcher-li", ApiFactory.Password);
        held.Dispose();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await ApiScenario.JsonAsync(refused);
        Assert.Equal("Sign-in is busy", problem.GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(client, "dispatcher-li", ApiFactory.Password)).StatusCode);
    }

    [Fact]
    public async Task With_every_password_check_taken_a_sign_in_waits_its_turn_in_the_queue()
    {
        await using var api = new ApiFactory().With("Auth:ConcurrentPasswordChecks", "1").With("Auth:PasswordCheckQueue", "1");
        var client = api.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(client, "dispatcher-li", ApiFactory.Password)).StatusCode);
        var held = await api.Services.GetRequiredService<SignInThrottle>().PasswordCheckAsync(CancellationToken.None);

        var queued = SignInAsync(client, "dispatcher-li", ApiFactory.Password);
        // Warm, a sign-in takes tens of milliseconds; this one waits as long as the check is held.
        Assert.NotSame(queued, await Task.WhenAny(queued, Task.Delay(TimeSpan.FromSeconds(1))));
        held.Dispose();

        Assert.Equal(HttpStatusCode.OK, (await queued).StatusCode);
    }

    [Theory]
    [InlineData("Auth:ConcurrentPasswordChecks", "0")]
    [InlineData("Auth:PasswordCheckQueue", "-1")]
    [InlineData("Auth:FailedSignInsPerUser", "0")]
    [InlineData("Auth:FailedSignInWindow", "00:00:00")]
    [InlineData("Auth:FailedSignInNames", "0")]
    public void A_sign_in_limit_that_cannot_work_stops_the_silo_at_start_naming_it(string key, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build();

        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddPowerServiceApi(configuration));

        Assert.StartsWith($"Auth configuration: {key["Auth:".Length..]} is ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_name_longer_than_any_user_may_have_is_a_400_naming_it()
    {
        var response = await SignInAsync(_api.CreateClient(), new string('x', 201), "guess");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("username", (await ApiScenario.JsonAsync(response)).GetProperty("field").GetString());
    }

    private static Task<HttpResponseMessage> SignInAsync(HttpClient client, string username, string password) =>
        client.PostAsJsonAsync("/api/auth/token", new { username, password });

    /// <summary>A sign-in over real HTTP from <paramref name="address"/> (a loopback address the client's socket is bound
    /// to: the silo sees it as the caller's).</summary>
    private Task<int> SignInFromAsync(IPAddress address, string username, string password) =>
        SignInFromAsync(_served ??= _api.StartKestrel(), address, username, password);

    private static async Task<int> SignInFromAsync(Uri served, IPAddress address, string username, string password)
    {
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(address, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = served };
        return (int)(await SignInAsync(client, username, password)).StatusCode;
    }

    private Uri? _served;
}

/// <summary>Behind a reverse proxy every request comes from the proxy's address: one client's 20 junk sign-ins in ten
/// seconds kept every dispatcher, crew and customer out of sign-in and token refresh. From a configured proxy the
/// client's address is the one it forwards; from anyone else the header is not believed.</summary>
public sealed class TrustedProxyTests
{
    [Fact]
    public async Task Behind_a_trusted_proxy_sign_ins_are_limited_per_forwarded_client_address()
    {
        await using var api = new ApiFactory().With("Api:TrustedProxies:0", "127.0.0.1");
        var proxy = new HttpClient { BaseAddress = api.StartKestrel() };

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await SignInAsync(proxy, "10.0.0.66", $"nobody{i}", "guess"));
        }

        Assert.Equal(HttpStatusCode.OK, await SignInAsync(proxy, "10.0.0.7", "dispatcher-li", ApiFactory.Password));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SignInAsync(proxy, "10.0.0.66", "dispatcher-li", ApiFactory.Password));
    }

    [Fact]
    public async Task Without_a_trusted_proxy_a_forwarded_address_is_not_believed()
    {
        await using var api = new ApiFactory();
        var client = new HttpClient { BaseAddress = api.StartKestrel() };

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await SignInAsync(client, $"10.0.1.{i}", $"nobody{i}", "guess"));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await SignInAsync(client, "10.0.0.7", "dispatcher-li", ApiFactory.Password));
    }

    private static async Task<HttpStatusCode> SignInAsync(HttpClient client, string forwardedFor, string username, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/token") { Content = JsonContent.Create(new { username, password }) };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return (await client.SendAsync(request)).StatusCode;
    }
}
