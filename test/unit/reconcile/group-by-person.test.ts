import { groupByPerson } from '../../../functions/domain/reconcile/group-by-person';
import { identifierKey, type Identifier } from '../../../functions/domain/identity/identifiers';

const cookie = (value: string): Identifier => ({ type: 'anonymous_id', value });
const user = (value: string): Identifier => ({ type: 'user_id', value });

describe('groupByPerson', () => {
  it('groups messages sharing an identifier, directly or through another message, in batch order', () => {
    const messages: Array<{ id: string; identifiers: Identifier[] }> = [
      { id: 'a1', identifiers: [cookie('a')] },
      { id: 'b1', identifiers: [cookie('b')] },
      { id: 'a2', identifiers: [cookie('a')] },
      { id: 'u1', identifiers: [user('u')] },
      // The login links cookie b and user u: b1, u1 and this one are one person.
      { id: 'login', identifiers: [user('u'), cookie('b')] },
      { id: 'none', identifiers: [] },
      { id: 'b2', identifiers: [cookie('b')] },
    ];
    const groups = groupByPerson(messages, (message) => message.identifiers.map(identifierKey)).map((group) => group.map((message) => message.id));
    expect(groups).toEqual([['a1', 'a2'], ['b1', 'u1', 'login', 'b2'], ['none']]);
  });

  it('keeps identifiers of different types with the same value apart', () => {
    const groups = groupByPerson([{ ids: [cookie('x')] }, { ids: [user('x')] }], (message) => message.ids.map(identifierKey));
    expect(groups).toHaveLength(2);
  });
});
