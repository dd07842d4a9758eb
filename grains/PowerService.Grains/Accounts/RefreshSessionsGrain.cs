using PowerService.Runtime;

namespace PowerService.Grains.Accounts;

/// <summary>The sign-in sessions of one user (key: the user name, lower case) and how far each one's refresh tokens
/// have been renewed, kept across restarts: a refresh token is good for one renewal. A session starts with a sign-in
/// (<see cref="Start"/>, generation 0) and each renewal hands out the next generation. A session this grain does not
/// keep is over: never started here, or pushed out by <see cref="KeptPerName"/> newer ones (its tokens are refused;
/// a signed-out session forgotten so came back to life, its refresh token renewing again). A token of a generation already renewed is a copy
/// (lifted from a log, a proxy, a lost phone): it ends the session, so that neither the copy nor the token renewed
/// from the original works any more and the user signs in again — unless it comes again within
/// <see cref="IRefreshSessionsGrain.AnswerLostWithin"/> of its renewal, which is a client whose answer was lost
/// (a PDA on a weak network, two tabs renewing at once).</summary>
public interface IRefreshSessionsGrain : IGrain
{
    /// <remarks>Ten minutes: a PDA whose renewal answer was lost in a tunnel sends it again when it has signal. The
    /// price: tokens of one generation cannot be told apart, so a copy presented within the window gets a token of the
    /// current generation, and two holders who keep renewing within ten minutes of each other are never caught (a copy
    /// used later is). Telling them apart needs an id per issued token (docs/api.md, known limits).</remarks>
    static readonly TimeSpan AnswerLostWithin = TimeSpan.FromMinutes(10);

    /// <summary>Sessions kept per user (the latest used); an older one is over, its tokens refused. Ended ones count
    /// too, until their tokens have expired.</summary>
    const int KeptPerName = 256;

    /// <summary>A sign-in began: its session is kept, at generation 0, until <paramref name="keepUntil"/> (when its
    /// refresh token expires) unless renewed.</summary>
    Task Start(string session, DateTimeOffset keepUntil);

    /// <summary>The generation the renewed token carries, or null when the token may not be renewed (a copy, a
    /// session ended, forgotten). <paramref name="keepUntil"/>: when the renewed token expires.</summary>
    Task<int?> Renew(string session, int generation, DateTimeOffset keepUntil);

    /// <summary>The user signed out of <paramref name="session"/> (a PDA handed to the next shift): none of its tokens
    /// works again. It is kept, ended, until its refresh token would have expired.</summary>
    Task End(string session);

    /// <summary>Whether <paramref name="session"/> is over: ended (signed out, or a copy of its refresh token caught)
    /// or not kept (never started here, pushed out by newer ones, expired). Its access tokens are refused from then
    /// on, not only its refresh tokens.</summary>
    [AlwaysInterleave]
    Task<bool> IsEnded(string session);
}

internal sealed class RefreshSessionsGrain(IPersistentState<RefreshSessionsState> state) : Grain, IRefreshSessionsGrain
{
    public Task Start(string session, DateTimeOffset keepUntil)
    {
        var now = TimeProvider.GetUtcNow();
        var sessions = state.State.Sessions;
        sessions.RemoveAll(s => s.KeepUntil <= now);
        if (sessions.Exists(s => s.Id == session))
        {
            return Task.CompletedTask;
        }
        if (sessions.Count >= IRefreshSessionsGrain.KeptPerName)
        {
            sessions.Remove(sessions.MinBy(s => s.RenewedAt)!);
        }
        sessions.Add(new RefreshSession { Id = session, Generation = 0, RenewedAt = now, KeepUntil = keepUntil });
        return state.WriteStateAsync();
    }

    public async Task<int?> Renew(string session, int generation, DateTimeOffset keepUntil)
    {
        var now = TimeProvider.GetUtcNow();
        var sessions = state.State.Sessions;
        sessions.RemoveAll(s => s.KeepUntil <= now);
        if (sessions.Find(s => s.Id == session) is not { Ended: false } entry)
        {
            return null; // over: ended, never started here, pushed out by newer sign-ins, or expired
        }
        int? renewed;
        if (generation == entry.Generation)
        {
            entry.Generation++;
            entry.RenewedAt = now;
            entry.KeepUntil = keepUntil;
            renewed = entry.Generation;
        }
        else if (generation == entry.Generation - 1 && now - entry.RenewedAt <= IRefreshSessionsGrain.AnswerLostWithin)
        {
            return entry.Generation; // the same renewal again: its answer was lost
        }
        else
        {
            entry.Ended = true; // a token renewed before, presented again: someone holds a copy
            renewed = null;
        }
        await state.WriteStateAsync();
        return renewed;
    }

    public Task<bool> IsEnded(string session) =>
        Task.FromResult(state.State.Sessions.Find(s => s.Id == session) is not { Ended: false } kept || kept.KeepUntil <= TimeProvider.GetUtcNow());

    public Task End(string session)
    {
        if (state.State.Sessions.Find(s => s.Id == session) is not { Ended: false } entry)
        {
            return Task.CompletedTask; // over already
        }
        entry.Ended = true;
        return state.WriteStateAsync();
    }
}

internal sealed class RefreshSessionsState
{
    public List<RefreshSession> Sessions { get; set; } = [];
}

internal sealed class RefreshSession
{
    public string Id { get; set; } = "";
    public int Generation { get; set; }
    public DateTimeOffset RenewedAt { get; set; }
    public DateTimeOffset KeepUntil { get; set; }
    public bool Ended { get; set; }
}
