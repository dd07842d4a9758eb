using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PowerService.Api.Tests.Support;
using PowerService.TestSupport;

namespace PowerService.Api.Tests;

public sealed class AuthTests : IAsyncLifetime
{
    private readonly ApiFactory _api = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_configured_user_gets_a_bearer_token_for_the_right_password()
    {
        var response = await _api.CreateClient().PostAsJsonAsync("/api/auth/token", new { username = "dispatcher-li", password = ApiFactory.Password });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Bearer", body.RootElement.GetProperty("tokenType").GetString());
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("accessToken").GetString()));
    }

    [Fact]
    public async Task A_token_whose_user_entry_changed_is_refused_after_the_restart_and_a_fresh_sign_in_gets_the_new_role()
    {
        var dispatcher = await SignInAsync(_api, "dispatcher-li");
        var crew = await SignInAsync(_api, "crew-c12");
        var customer = await SignInAsync(_api, "customer-wang");

        // The silo starts again on its store with the dispatcher demoted to operator and the crew account moved to another crew.
        await using var changed = new ApiFactory().With("Storage:ConnectionString", _api.CopyOfStore())
            .With("Auth:Users:0:Role", "operator").With("Auth:Users:1:CrewId", "C-99");
        var client = changed.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await MeAsync(client, dispatcher.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await MeAsync(client, crew.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(client, customer.AccessToken)).StatusCode);
        var demoted = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = dispatcher.RefreshToken });
        Assert.Equal(HttpStatusCode.Unauthorized, demoted.StatusCode);
        var fresh = await SignInAsync(changed, "dispatcher-li");
        var me = await (await MeAsync(client, fresh.AccessToken)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("operator", me.GetProperty("role").GetString());
    }

    [Fact]
    public async Task A_refresh_token_gets_a_new_token_and_a_made_up_one_is_a_401()
    {
        var first = await SignInAsync(_api, "crew-c12");
        var client = _api.CreateClient();

        var refreshed = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = first.RefreshToken });
        var madeUp = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = "CfDJ8-not-a-token" });
        var accessAsRefresh = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = first.AccessToken });
        var missing = await client.PostAsJsonAsync("/api/auth/refresh", new { });

        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var second = (await refreshed.Content.ReadFromJsonAsync<Tokens>())!;
        var me = await (await MeAsync(client, second.AccessToken)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("C-12", me.GetProperty("crewId").GetString());
        // The scheme's name is case-insensitive (RFC 9110).
        var lowerCase = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/auth/me") { Headers = { Authorization = new("bearer", second.AccessToken) } });
        Assert.Equal(HttpStatusCode.OK, lowerCase.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, madeUp.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, accessAsRefresh.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("refreshToken", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    /// <summary>A refresh token lifted from a log or a proxy kept its holder signed in for good (every use handed out
    /// another 14-day token), and answers holding tokens were cacheable. A refresh token is good once now: sent again at
    /// once (its answer lost) it is renewed again, later it ends the sign-in — the copy and the token renewed from the
    /// original are refused, and a fresh sign-in works.</summary>
    [Fact]
    public async Task A_refresh_token_used_again_later_ends_its_sign_in_and_answers_with_tokens_are_not_stored()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var api = new ApiFactory().WithSiloClock(clock);
        var signIn = await api.CreateClient().PostAsJsonAsync("/api/auth/token", new { username = "crew-c12", password = ApiFactory.Password });
        var first = (await signIn.Content.ReadFromJsonAsync<Tokens>())!;
        var client = api.CreateClient();

        var renewed = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = first.RefreshToken });
        var answerLost = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = first.RefreshToken });
        var second = (await renewed.Content.ReadFromJsonAsync<Tokens>())!;
        var third = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = second.RefreshToken });
        clock.Advance(TimeSpan.FromMinutes(11));
        var copy = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = second.RefreshToken });
        var afterCopy = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = (await third.Content.ReadFromJsonAsync<Tokens>())!.RefreshToken });

        Assert.Equal("no-store", signIn.Headers.CacheControl?.ToString());
        Assert.Equal("no-store", renewed.Headers.CacheControl?.ToString());
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (renewed.StatusCode, answerLost.StatusCode, third.StatusCode));
        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (copy.StatusCode, afterCopy.StatusCode));
        Assert.Contains("used already", (await copy.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        var again = await api.CreateClient().PostAsJsonAsync("/api/auth/token", new { username = "crew-c12", password = ApiFactory.Password });
        var renewedAgain = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = (await again.Content.ReadFromJsonAsync<Tokens>())!.RefreshToken });
        Assert.Equal(HttpStatusCode.OK, renewedAgain.StatusCode);
    }

    /// <summary>Sign out only forgot the tokens in the browser: a refresh token lifted from the device renewed for good.
    /// Signing out ends the sign-in on the silo; its refresh tokens renew no more, another sign-in of the user goes on.</summary>
    [Fact]
    public async Task Signing_out_ends_the_sign_in_on_the_silo_and_its_refresh_token_renews_no_more()
    {
        var client = _api.CreateClient();
        var leaving = await SignInAsync(_api, "crew-c12");
        var other = await SignInAsync(_api, "crew-c12");

        var signedOut = await client.PostAsJsonAsync("/api/auth/sign-out", new { refreshToken = leaving.RefreshToken });
        var copy = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = leaving.RefreshToken });
        var stillSignedIn = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = other.RefreshToken });
        var madeUp = await client.PostAsJsonAsync("/api/auth/sign-out", new { refreshToken = "CfDJ8-not-a-token" });

        Assert.Equal(HttpStatusCode.NoContent, signedOut.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, copy.StatusCode);
        Assert.Equal(HttpStatusCode.OK, stillSignedIn.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, madeUp.StatusCode);
    }

    /// <summary>Signing out stopped only the refresh tokens: an access token lifted from the device (or the copy's holder
    /// after a copy was caught) kept the account for the rest of its 12 hours, and a PDA's open live feed kept
    /// receiving. An ended sign-in's access tokens are refused and its hub connections closed; another sign-in of the
    /// same user goes on.</summary>
    [Fact]
    public async Task An_ended_sign_in_s_access_tokens_are_refused_and_its_live_connections_closed()
    {
        var server = _api.StartKestrel();
        var client = _api.CreateClient();
        var leaving = await SignInAsync(_api, "crew-c12");
        var other = await SignInAsync(_api, "crew-c12");
        await using var feed = await SignalRConnection.ConnectAsync(new Uri(server, "/hubs/crew"), leaving.AccessToken);
        await using var otherFeed = await SignalRConnection.ConnectAsync(new Uri(server, "/hubs/crew"), other.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(client, leaving.AccessToken)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsJsonAsync("/api/auth/sign-out", new { refreshToken = leaving.RefreshToken })).StatusCode);

        var refused = await MeAsync(client, leaving.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.True(await feed.ClosedByServerAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(401, await SignalRConnection.RefusedStatusAsync(new Uri(server, "/hubs/crew"), leaving.AccessToken));
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(client, other.AccessToken)).StatusCode);
        Assert.False(await otherFeed.ClosedByServerAsync(TimeSpan.FromMilliseconds(300)));
    }

    /// <summary>A refresh-token copy caught ends the sign-in for its access tokens too: the thief's renewed token and
    /// the victim's are refused at once, not after 12 hours.</summary>
    [Fact]
    public async Task A_caught_refresh_token_copy_ends_the_access_tokens_of_its_sign_in()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var api = new ApiFactory().WithSiloClock(clock);
        var client = api.CreateClient();
        var first = await SignInAsync(api, "crew-c12");
        var renewed = (await (await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = first.RefreshToken })).Content.ReadFromJsonAsync<Tokens>())!;
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(client, renewed.AccessToken)).StatusCode);

        clock.Advance(TimeSpan.FromMinutes(11));
        var copy = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = first.RefreshToken });

        Assert.Equal(HttpStatusCode.Unauthorized, copy.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await MeAsync(client, renewed.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await MeAsync(client, first.AccessToken)).StatusCode);
    }

    /// <summary>A CRM page on another origin was refused by every browser, with no setting to allow it: an origin in
    /// Api:AllowedOrigins may call the API (its preflight answered, its answers readable); any other origin may not
    /// (a bad entry stops the silo naming it: SiloHostTests).</summary>
    [Fact]
    public async Task A_browser_page_of_an_allowed_origin_may_call_the_api_and_another_origins_may_not()
    {
        await using var api = new ApiFactory().With("Api:AllowedOrigins:0", "https://crm.example.com");
        var client = api.CreateClient();
        var token = await api.TokenForAsync("dispatcher-li");

        HttpRequestMessage Preflight(string origin) => new(HttpMethod.Options, "/api/work-orders")
        {
            Headers = { { "Origin", origin }, { "Access-Control-Request-Method", "POST" }, { "Access-Control-Request-Headers", "authorization,content-type" } },
        };
        HttpRequestMessage Me(string origin) => new(HttpMethod.Get, "/api/auth/me") { Headers = { { "Origin", origin }, { "Authorization", "Bearer " + token } } };
        var allowedPreflight = await client.SendAsync(Preflight("https://crm.example.com"));
        var otherPreflight = await client.SendAsync(Preflight("https://evil.example.net"));
        var allowedCall = await client.SendAsync(Me("https://crm.example.com"));
        var otherCall = await client.SendAsync(Me("https://evil.example.net"));

        Assert.Equal(HttpStatusCode.NoContent, allowedPreflight.StatusCode);
        Assert.Equal("https://crm.example.com", allowedPreflight.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", allowedPreflight.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.False(otherPreflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal(HttpStatusCode.OK, allowedCall.StatusCode);
        Assert.Equal("https://crm.example.com", allowedCall.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.False(otherCall.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False((await _api.CreateClient().SendAsync(Preflight("https://crm.example.com"))).Headers.Contains("Access-Control-Allow-Origin"));

    }

    private static async Task<Tokens> SignInAsync(ApiFactory api, string user)
    {
        var response = await api.CreateClient().PostAsJsonAsync("/api/auth/token", new { username = user, password = ApiFactory.Password });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Tokens>())!;
    }

    private static Task<HttpResponseMessage> MeAsync(HttpClient client, string token) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/auth/me") { Headers = { Authorization = new("Bearer", token) } });

    private sealed record Tokens(string AccessToken, string RefreshToken);

    [Theory]
    [InlineData("dispatcher-li", "wrong password")]
    [InlineData("nobody", ApiFactory.Password)]
    public async Task A_wrong_password_and_an_unknown_user_get_the_same_401(string username, string password)
    {
        var response = await _api.CreateClient().PostAsJsonAsync("/api/auth/token", new { username, password });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("user name or password is wrong", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"password":"x"}""", "username")]
    [InlineData("""{"username":"dispatcher-li"}""", "password")]
    public async Task A_missing_field_is_a_400_naming_it(string json, string field)
    {
        var response = await _api.CreateClient().PostAsync("/api/auth/token", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(field, body.RootElement.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_body_that_is_not_valid_JSON_is_a_400_naming_where_it_broke()
    {
        var response = await _api.CreateClient().PostAsync("/api/auth/token", new StringContent("""{"username": 5, "password": "x"}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("username", body.RootElement.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_field_sent_twice_is_a_400_not_the_last_one_winning()
    {
        var response = await _api.CreateClient().PostAsync("/api/auth/token", new StringContent(
            $$"""{"username":"customer-wang","username":"dispatcher-li","password":"{{ApiFactory.Password}}"}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("username", problem.GetProperty("field").GetString());
        Assert.Equal("username is sent twice; send each field once.", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("operator-zhao", "/api/crews/C-12/status", """{"status":"Available"}""")]
    [InlineData("operator-zhao", "/api/crews/C-12/location", """{"latitude":20.0,"longitude":110.3}""")]
    [InlineData("customer-wang", "/api/crews/C-12/slots", """{"slots":[]}""")]
    public async Task Changing_a_crew_as_an_operator_or_a_customer_is_a_403_naming_the_roles_it_takes(string user, string path, string json)
    {
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.RegisterCrewAsync(dispatcher, "C-12");
        var client = await _api.ClientForAsync(user);

        var response = await client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("dispatcher, crew", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("customer-wang", "GET", "/api/outages/%20")]
    [InlineData("crew-c12", "GET", "/api/outages/%09")]
    [InlineData("dispatcher-li", "POST", "/api/outages/%20/restore")]
    [InlineData("customer-wang", "GET", "/api/crews/%20/slots")]
    [InlineData("operator-zhao", "GET", "/api/crews/%0A")]
    [InlineData("dispatcher-li", "POST", "/api/crews/%20/location")]
    [InlineData("operator-zhao", "GET", "/api/transformer-areas/%20/energy")]
    [InlineData("dispatcher-li", "GET", "/api/transformer-areas/TA.1/energy")]
    [InlineData("dispatcher-li", "GET", "/api/work-orders/%C2%A0")]
    [InlineData("dispatcher-li", "POST", "/api/planned-outages/%20/start")]
    public async Task A_path_id_that_cannot_be_an_id_is_a_404_naming_the_entity_not_a_500(string user, string method, string path)
    {
        var client = await _api.ClientForAsync(user);

        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method != "POST" ? null
                : path.EndsWith("/location", StringComparison.Ordinal) ? JsonContent.Create(new { latitude = 20.0, longitude = 110.3 })
                : JsonContent.Create(new { }),
        });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("does not exist", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Ids_guessed_by_the_hundred_are_404s_that_leave_no_activation_behind()
    {
        // Guessed with a dispatcher's token: dispatchers are not rate limited (a crew's guesses are 429 past its limit).
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        var operatorClient = await _api.ClientForAsync("operator-zhao");
        var types = new[] { "WorkOrderGrain", "OutageGrain", "FieldCrewGrain", "PlannedOutageGrain", "AreaEnergyGrain", "RegionIndicatorsGrain" };
        async Task<int> ActivationsAsync()
        {
            using var stats = JsonDocument.Parse(await operatorClient.GetStringAsync("/api/runtime/stats"));
            var byType = stats.RootElement.GetProperty("activationsByType");
            return types.Sum(t => byType.TryGetProperty(t, out var n) ? n.GetInt32() : 0);
        }
        var before = await ActivationsAsync();

        for (var i = 0; i < 100; i++)
        {
            foreach (var (client, path) in new[]
            {
                (dispatcher, $"/api/outages/OUT-guess-{i}"), (dispatcher, $"/api/work-orders/WO-guess-{i}"), (dispatcher, $"/api/crews/C-guess-{i}"),
                (dispatcher, $"/api/planned-outages/PO-guess-{i}"), (dispatcher, $"/api/transformer-areas/TA-guess-{i}/energy"),
                (dispatcher, $"/api/bookings/C-guess-{i}~1"), (operatorClient, $"/api/indicators?region=R-guess-{i}"),
            })
            {
                Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(path)).StatusCode);
            }
        }

        // Each guess cost a store read; none is kept for the 15-minute idle timeout (600 were, one per guess).
        await Eventually.True(async () => await ActivationsAsync() <= before, "the guessed ids' activations are gone");
    }

    [Theory]
    [InlineData("/api/work-orders?region=R1")]
    [InlineData("/api/work-orders/WO-1")]
    [InlineData("/api/outages")]
    [InlineData("/api/outages/OUT-1")]
    [InlineData("/api/crews/C-12")]
    [InlineData("/api/planned-outages")]
    public async Task The_head_end_account_posts_meter_events_and_reads_nothing_else(string path)
    {
        var headEnd = await _api.ClientForAsync("headend-1");

        var response = await headEnd.GetAsync(path);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await headEnd.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await headEnd.PostAsJsonAsync("/api/meter-events", ApiScenario.LastGasps(1, 1))).StatusCode);
    }

    [Theory]
    [InlineData("/dispatch.html")]
    [InlineData("/api/auth/me")]
    public async Task Every_answer_tells_the_browser_to_run_only_the_silos_scripts_and_never_inside_another_sites_frame(string path)
    {
        var response = await _api.CreateClient().GetAsync(path);

        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self';", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
    }

    /// <summary>An unknown name used to be answered at once and a known one after the password hash (25–70 ms), so
    /// the time told which names exist. Medians of a few of each; the known user's wrong password is the yardstick.</summary>
    [Fact]
    public async Task An_unknown_user_is_answered_after_as_much_work_as_a_wrong_password()
    {
        var client = _api.CreateClient();
        async Task<double> MedianMsAsync(string username)
        {
            var times = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var response = await client.PostAsJsonAsync("/api/auth/token", new { username, password = "wrong password" });
                times.Add(watch.Elapsed.TotalMilliseconds);
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }
            return times.Order().ElementAt(2);
        }
        await MedianMsAsync("nobody-warmup");

        var known = await MedianMsAsync("dispatcher-li");
        var unknown = await MedianMsAsync("nobody-at-all");

        Assert.True(unknown > known / 3, $"unknown user {unknown:F1} ms against a wrong password {known:F1} ms");
    }

    [Fact]
    public async Task Guessing_passwords_from_one_address_is_cut_off_with_429_and_retry_after()
    {
        using var api = new ApiFactory().With("Api:PublicRateLimit", "3").With("Api:PublicRateWindow", "00:01:00");
        var client = api.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            var response = await client.PostAsJsonAsync("/api/auth/token", new { username = "dispatcher-li", password = $"guess {i}" });
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.Equal("60", response.Headers.GetValues("Retry-After").Single());
            }
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }
}

public sealed class RuntimeStatisticsTests : IAsyncLifetime
{
    private readonly ApiFactory _api = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Without_a_token_the_statistics_answer_401()
    {
        var response = await _api.CreateClient().GetAsync("/api/runtime/stats");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("customer-wang", "customer")]
    [InlineData("crew-c12", "crew")]
    public async Task Customers_and_crews_are_refused_with_403_saying_which_roles_it_takes(string user, string role)
    {
        var client = await _api.ClientForAsync(user);

        var response = await client.GetAsync("/api/runtime/stats");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal($"This needs one of the roles operator, dispatcher (signed in as {role}).", problem.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_operator_reads_the_statistics_of_the_running_silo()
    {
        var client = await _api.ClientForAsync("operator-zhao");
        // What the monitor and a script's check now see: the API's refusals, not only the grains' (a head-end answered
        // 401 on every batch looked like a quiet night).
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/work-orders/WO-NOPE")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _api.CreateClient().GetAsync("/api/work-orders/WO-NOPE")).StatusCode);

        using var body = JsonDocument.Parse(await client.GetStringAsync("/api/runtime/stats"));

        Assert.Equal("sqlite", body.RootElement.GetProperty("store").GetString());
        Assert.True(body.RootElement.GetProperty("activations").GetInt32() >= 0);
        Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("storeWritesFailingSince").ValueKind);
        var http = body.RootElement.GetProperty("http");
        Assert.True(http.GetProperty("rejected").GetInt64() >= 1, "the 404 is counted");
        Assert.True(http.GetProperty("unauthorized").GetInt64() >= 1, "the 401 is counted");
        Assert.True(http.GetProperty("requests").GetInt64() >= 2);
    }
}

public sealed class OpenApiTests : IAsyncLifetime
{
    private readonly ApiFactory _api = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task The_OpenAPI_document_lists_the_endpoints()
    {
        using var body = JsonDocument.Parse(await _api.CreateClient().GetStringAsync("/openapi/v1.json"));

        var paths = body.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/auth/token", out _));
        Assert.True(paths.TryGetProperty("/api/runtime/stats", out _));
    }

    /// <summary>A client generated from the document had no response types, no token, every string typed as anything
    /// and optional fields required (an accept demanded note, location and targetId): the document says what answers
    /// come back with which status, that a bearer token is needed, the names an enum field takes, and requires no field
    /// of a request body (the API checks each, a 400 naming it).</summary>
    [Fact]
    public async Task The_OpenAPI_document_types_answers_errors_the_token_and_enum_fields_for_a_generated_client()
    {
        using var body = JsonDocument.Parse(await _api.CreateClient().GetStringAsync("/openapi/v1.json"));
        var root = body.RootElement;
        var paths = root.GetProperty("paths");
        var schemas = root.GetProperty("components").GetProperty("schemas");

        var create = paths.GetProperty("/api/work-orders").GetProperty("post");
        Assert.Equal("#/components/schemas/WorkOrderView",
            create.GetProperty("responses").GetProperty("201").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.True(create.GetProperty("responses").GetProperty("409").GetProperty("content").TryGetProperty("application/problem+json", out _));
        Assert.Equal("Bearer", create.GetProperty("security")[0].EnumerateObject().Single().Name);
        Assert.Equal("bearer", root.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());
        Assert.False(paths.GetProperty("/api/auth/token").GetProperty("post").TryGetProperty("security", out _));
        Assert.True(paths.GetProperty("/api/bookings/{id}").GetProperty("delete").GetProperty("responses").TryGetProperty("204", out _));
        Assert.Contains("Complaint", schemas.GetProperty("CreateWorkOrderBody").GetProperty("properties").GetProperty("kind").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("string", schemas.GetProperty("TransitionBody").GetProperty("properties").GetProperty("action").GetProperty("type").EnumerateArray().Select(t => t.GetString()));
        Assert.False(schemas.GetProperty("TransitionBody").TryGetProperty("required", out var required) && required.GetArrayLength() > 0);
        var rows = schemas.GetProperty("OutageListResponse").GetProperty("properties");
        Assert.True(rows.TryGetProperty("continuationToken", out _));
        // A count is a number (it was "number or string"), and a field that comes back null says it may.
        Assert.Equal("integer", schemas.GetProperty("OutageSummary").GetProperty("properties").GetProperty("affectedCustomers").GetProperty("type").GetString());
        Assert.Equal(["null", "string"], schemas.GetProperty("WorkOrderView").GetProperty("properties").GetProperty("crewId").GetProperty("type").EnumerateArray().Select(t => t.GetString()).Order());
        Assert.True(paths.GetProperty("/api/auth/token").GetProperty("post").GetProperty("responses").TryGetProperty("401", out _));
        Assert.Contains("en-route", schemas.GetProperty("TransitionBody").GetProperty("properties").GetProperty("action").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, root.TryGetProperty("servers", out var servers) ? servers.GetArrayLength() : 0); // no Host a caller chose
        Assert.Contains("changed-since-seen", schemas.GetProperty("Problem").GetProperty("properties").GetProperty("code").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
    }
}
