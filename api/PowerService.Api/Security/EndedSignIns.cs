using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.SignalR;
using PowerService.Grains.Accounts;
using PowerService.Runtime;

namespace PowerService.Api.Security;

/// <summary>Sign-ins that ended before their access tokens ran out — the user signed out, or a copy of a refresh token
/// was caught (<see cref="IRefreshSessionsGrain"/>) — refused on every request and hub call, and their open hub
/// connections closed. Signing out only stopped the refresh tokens: a token lifted from the device, or the copy's
/// holder, kept the account for the rest of the access token's life (12 h). The user's sessions grain is the truth;
/// this silo asks it once per sign-in and then again after <see cref="Recheck"/> (what another silo ended is seen by
/// then), and knows at once what it ended itself.</summary>
public sealed class EndedSignIns(IGrainFactory grains)
{
    /// <summary>How long an answer of the sessions grain is trusted: a sign-in ended on another silo is refused here
    /// at most this long after.</summary>
    public static readonly TimeSpan Recheck = TimeSpan.FromSeconds(5);

    private static readonly long RecheckMs = (long)Recheck.TotalMilliseconds;
    private const long SweepEveryMs = 60_000;

    private readonly ConcurrentDictionary<string, (bool Ended, long CheckedAt)> _known = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, HubCallerContext>> _connections = new(StringComparer.Ordinal);
    private long _nextSweep;

    /// <summary>The sessions grain of user <paramref name="name"/> (names are case-insensitive).</summary>
    public IRefreshSessionsGrain SessionsOf(string name) => grains.GetGrain<IRefreshSessionsGrain>(name.ToLowerInvariant());

    /// <summary>Whether the sign-in a token of <paramref name="user"/> belongs to has ended. A token without a sign-in
    /// (issued before sign-ins were kept) has not.</summary>
    public ValueTask<bool> IsEndedAsync(ClaimsPrincipal user)
    {
        if (user.Identity?.Name is not { } name || user.FindFirst(ConfiguredUsers.SessionClaim)?.Value is not { } session)
        {
            return ValueTask.FromResult(false);
        }
        var now = Environment.TickCount64;
        if (_known.TryGetValue(session, out var known) && (known.Ended || now - known.CheckedAt < RecheckMs))
        {
            return ValueTask.FromResult(known.Ended);
        }
        return AskAsync(name, session, now);
    }

    private async ValueTask<bool> AskAsync(string name, string session, long now)
    {
        var ended = await SessionsOf(name).IsEnded(session);
        _known[session] = (ended, now);
        SweepNowAndThen(now);
        return ended;
    }

    /// <summary>This silo ended <paramref name="session"/>: its tokens are refused from now on and its hub connections closed.</summary>
    public void Ended(string session)
    {
        _known[session] = (true, Environment.TickCount64);
        if (_connections.TryRemove(session, out var open))
        {
            foreach (var connection in open.Values)
            {
                connection.Abort();
            }
        }
    }

    /// <summary>A hub connection of a sign-in opened: closed when the sign-in ends here (<see cref="Ended"/>).</summary>
    internal void Opened(HubCallerContext connection)
    {
        if (connection.User?.FindFirst(ConfiguredUsers.SessionClaim)?.Value is { } session)
        {
            _connections.GetOrAdd(session, _ => new(StringComparer.Ordinal))[connection.ConnectionId] = connection;
        }
    }

    internal void Closed(HubCallerContext connection)
    {
        if (connection.User?.FindFirst(ConfiguredUsers.SessionClaim)?.Value is { } session
            && _connections.TryGetValue(session, out var open) && open.TryRemove(connection.ConnectionId, out _) && open.IsEmpty)
        {
            _connections.TryRemove(new KeyValuePair<string, ConcurrentDictionary<string, HubCallerContext>>(session, open));
        }
    }

    /// <summary>Answers older than a minute are forgotten (a minute apart at most), so the table holds the sign-ins in
    /// use, not every one since the start; an ended sign-in still in use is asked about again, and stays ended.</summary>
    private void SweepNowAndThen(long now)
    {
        var next = Volatile.Read(ref _nextSweep);
        if (now < next || Interlocked.CompareExchange(ref _nextSweep, now + SweepEveryMs, next) != next)
        {
            return;
        }
        foreach (var (session, known) in _known)
        {
            if (now - known.CheckedAt >= SweepEveryMs)
            {
                _known.TryRemove(new KeyValuePair<string, (bool, long)>(session, known));
            }
        }
    }
}

/// <summary>Every hub connection is known by its sign-in, and every hub call of an ended sign-in is refused as its
/// requests are (a connection of another silo's sign-out, open before it).</summary>
internal sealed class SignInHubFilter(EndedSignIns signIns) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (await signIns.IsEndedAsync(invocationContext.Context.User!))
        {
            invocationContext.Context.Abort();
            throw new HubException("401 This sign-in has ended: sign in again.");
        }
        return await next(invocationContext);
    }

    public Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        signIns.Opened(context.Context);
        return next(context);
    }

    public Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        signIns.Closed(context.Context);
        return next(context, exception);
    }
}
