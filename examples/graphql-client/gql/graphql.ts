/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type CreateContactInput = {
  attributes?: unknown;
  company?: string | null | undefined;
  displayName?: string | null | undefined;
  emails?: Array<EmailInput> | null | undefined;
  externalId?: string | null | undefined;
  familyName?: string | null | undefined;
  givenName?: string | null | undefined;
  phones?: Array<string> | null | undefined;
  tags?: Array<string> | null | undefined;
  title?: string | null | undefined;
};

export type EmailInput = {
  address: string;
  primary?: boolean | null | undefined;
};

export type InteractionKind =
  | 'CALL'
  | 'EMAIL'
  | 'MAIL'
  | 'MEETING'
  | 'MENTION'
  | 'MESSAGE'
  | 'NOTE'
  | 'POST'
  | 'SMS';

export type CreateContactMutationVariables = Exact<{
  input: CreateContactInput;
}>;


export type CreateContactMutation = { createContact: { contact: { id: string, displayName: string, tags: Array<string>, emails: Array<{ address: string, primary: boolean }> } } };

export type NewestContactsQueryVariables = Exact<{
  first: number;
  tag?: string | null | undefined;
}>;


export type NewestContactsQuery = { contacts: { totalCount: number, edges: Array<{ cursor: string, node: { id: string, displayName: string, timeline: { nodes: Array<{ id: string, kind: InteractionKind, occurredAt: string }> } } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const CreateContactDocument = new TypedDocumentString(`
    mutation CreateContact($input: CreateContactInput!) {
  createContact(input: $input) {
    contact {
      id
      displayName
      emails {
        address
        primary
      }
      tags
    }
  }
}
    `) as unknown as TypedDocumentString<CreateContactMutation, CreateContactMutationVariables>;
export const NewestContactsDocument = new TypedDocumentString(`
    query NewestContacts($first: Int!, $tag: String) {
  contacts(first: $first, filter: {tag: $tag}) {
    totalCount
    edges {
      cursor
      node {
        id
        displayName
        timeline(first: 3) {
          nodes {
            id
            kind
            occurredAt
          }
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    `) as unknown as TypedDocumentString<NewestContactsQuery, NewestContactsQueryVariables>;