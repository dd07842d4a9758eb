using System.Net;
using PowerService.Api.Tests.Support;

namespace PowerService.Api.Tests;

/// <summary>The customer-facing endpoints are limited per customer, and per address without a token; staff are not.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private readonly ApiFactory _api = new ApiFactory().With("Api:CustomerRateLimit", "3").With("Api:CustomerRateWindow", "00:01:00");

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
}
